using Distill.Data;
using Distill.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// Applies a <see cref="Training.Precision"/> (the recipe's <c>train.precision</c>). There is no autocast in TorchSharp, so <c>bf16</c> converts modules
/// (<c>module.to(bfloat16)</c>) and every floating-point batch input, and trains through
/// <see cref="MasterWeightOptimizer"/>: the optimizer steps fp32 copies of the weights and writes them back rounded to
/// bf16, so updates smaller than bf16's resolution (2^-8 relative) accumulate instead of vanishing. Losses promote bf16
/// values to fp32 before reducing them. fp16 is not offered: on CPU it is orders of magnitude slower.
/// </summary>
public sealed class MixedPrecision
{
    private MixedPrecision(Precision precision) => Precision = precision;

    /// <summary>Fp32 or Bf16 (never Auto: resolved when created).</summary>
    public Precision Precision { get; }

    /// <summary>The name summary.json records: <c>fp32</c> or <c>bf16</c>.</summary>
    public string Name => Precision == Precision.Bf16 ? "bf16" : "fp32";

    /// <summary>The precision to train in on <paramref name="device"/> (null = CPU), <c>auto</c> resolved by <see cref="PrecisionChoice.Resolve"/> for this machine.</summary>
    public static MixedPrecision For(Precision precision, Device? device = null) =>
        new(PrecisionChoice.Resolve(precision, device is null || device.type == DeviceType.CPU, CpuBf16Support.ThisMachine));

    /// <summary>The dtype models and float inputs run in.</summary>
    public ScalarType DType => Precision == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>Converts the floating-point parameters and buffers of each module (nulls skipped) to <see cref="DType"/>.</summary>
    public void Convert(params nn.Module?[] modules)
    {
        if (Precision == Precision.Fp32) return;
        foreach (var m in modules) m?.to(DType);
    }

    /// <summary>The optimizer the spec names; with bf16 wrapped so that it updates fp32 master weights.</summary>
    public OptimizerHelper CreateOptimizer(IOptimizerSettings spec, IEnumerable<Parameter> parameters) =>
        Precision == Precision.Bf16 ? new MasterWeightOptimizer(spec, parameters) : OptimizerFactory.Create(spec, parameters);

    /// <summary>The dataset itself, or (bf16) a view whose floating-point inputs are converted to bfloat16; ids, masks and labels unchanged.</summary>
    public IDataset Inputs(IDataset data) => Precision == Precision.Bf16 ? new CastInputs(data, DType) : data;

    private sealed class CastInputs(IDataset source, ScalarType dtype) : IDataset
    {
        public int Count => source.Count;
        public int NumClasses => source.NumClasses;

        public IReadOnlyList<string> ClassNames => source.ClassNames;
        public int Label(int index) => source.Label(index);
        public Distill.Text.CtcVocabulary? Vocabulary => source.Vocabulary;
        public string Transcript(int index) => source.Transcript(index);

        public Batch GetBatch(ReadOnlySpan<int> indices)
        {
            var batch = source.GetBatch(indices);
            var inputs = batch.Inputs.ToDictionary(kv => kv.Key, kv => kv.Value.is_floating_point() ? kv.Value.to_type(dtype) : kv.Value);
            return new Batch(inputs, batch.Labels);
        }
    }
}
