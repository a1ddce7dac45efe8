using Distill.Checkpoints;
using Distill.Compression.Artifact;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Quantization;

/// <summary>
/// What a <c>quantize</c> stage leaves beside its model as <c>quantization.safetensors</c>, for the export stage: per
/// quantized weight <c>weights.&lt;name&gt;.scales</c> (float32, one per channel or one), <c>.zero_points</c> (int64) and
/// <c>.grid</c> (int64 [bits, per_channel, symmetric]); per quantized activation <c>activations.&lt;module&gt;.range</c>
/// (float32 [min, max]) and <c>.bits</c> (int64 [bits]).
/// </summary>
public sealed record QuantizationRecord(IReadOnlyDictionary<string, LinearQuantParams> Weights, IReadOnlyList<ActivationRange> Activations)
{
    public const string FileName = "quantization.safetensors";

    public static QuantizationRecord Empty { get; } = new(new Dictionary<string, LinearQuantParams>(), []);

    public void Save(string modelDir)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, q) in Weights)
        {
            tensors[$"weights.{name}.scales"] = torch.tensor(q.Scales);
            tensors[$"weights.{name}.zero_points"] = torch.tensor(q.ZeroPoints.Select(z => (long)z).ToArray());
            tensors[$"weights.{name}.grid"] = torch.tensor(new long[] { q.Bits, q.PerChannel ? 1 : 0, q.Symmetric ? 1 : 0 });
        }
        foreach (var a in Activations)
        {
            tensors[$"activations.{a.Module}.range"] = torch.tensor(new[] { a.Min, a.Max });
            tensors[$"activations.{a.Module}.bits"] = torch.tensor(new long[] { a.Bits });
        }
        SafeTensors.Save(Path.Combine(modelDir, FileName), tensors);
        foreach (var t in tensors.Values) t.Dispose();
    }

    /// <summary>The record saved in <paramref name="modelDir"/>, or <see cref="Empty"/> when there is none.</summary>
    public static QuantizationRecord Load(string modelDir)
    {
        string path = Path.Combine(modelDir, FileName);
        if (!File.Exists(path)) return Empty;
        var tensors = SafeTensors.Load(path);
        try
        {
            var weights = new Dictionary<string, LinearQuantParams>(StringComparer.Ordinal);
            foreach (var key in tensors.Keys.Where(k => k.StartsWith("weights.", StringComparison.Ordinal) && k.EndsWith(".grid", StringComparison.Ordinal)))
            {
                string name = key["weights.".Length..^".grid".Length];
                if (!tensors.TryGetValue($"weights.{name}.scales", out var scales) || !tensors.TryGetValue($"weights.{name}.zero_points", out var zps))
                    throw new InvalidDataException($"{path}: '{name}' has a grid but no scales or zero_points.");
                var g = tensors[key].data<long>().ToArray();
                if (g.Length != 3) throw new InvalidDataException($"{path}: '{key}' must hold [bits, per_channel, symmetric].");
                weights[name] = new LinearQuantParams((int)g[0], g[1] != 0, g[2] != 0,
                    scales.to(ScalarType.Float32).data<float>().ToArray(), zps.data<long>().Select(z => (int)z).ToArray());
            }
            var activations = new List<ActivationRange>();
            foreach (var key in tensors.Keys.Where(k => k.StartsWith("activations.", StringComparison.Ordinal) && k.EndsWith(".range", StringComparison.Ordinal)).Order())
            {
                string module = key["activations.".Length..^".range".Length];
                var r = tensors[key].to(ScalarType.Float32).data<float>().ToArray();
                if (r.Length != 2 || !tensors.TryGetValue($"activations.{module}.bits", out var bits))
                    throw new InvalidDataException($"{path}: activation range of '{module}' must be [min, max] with a bits entry.");
                activations.Add(new ActivationRange(module, (int)bits.data<long>()[0], r[0], r[1]));
            }
            return new QuantizationRecord(weights, activations);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
