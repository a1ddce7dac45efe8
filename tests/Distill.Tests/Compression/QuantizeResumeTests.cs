using Distill.Checkpoints;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Training;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Compression;

/// <summary>An interrupted quantize stage resumes with its centroids / latent weights / activation ranges and replays the
/// uninterrupted run exactly.</summary>
public class QuantizeResumeTests
{
    private sealed class Interrupt : Exception;

    private sealed class Recorder(long? stopAfter) : ITrainerCallback
    {
        public List<(long Step, double Loss)> Losses { get; } = [];

        public void OnStep(TrainingSession session, StepInfo step)
        {
            Losses.Add((step.Step, step.Total));
            if (step.Step == stopAfter) throw new Interrupt();
        }
    }

    [Theory]
    [InlineData(QuantizeMethod.Kmeans, false)]
    [InlineData(QuantizeMethod.Qat, false)]
    [InlineData(QuantizeMethod.Qat, true)]  // allocated sparsity and widths: the resumed stage keeps the allocated masks
    public void InterruptedQuantization_ResumesExactly(QuantizeMethod method, bool allocate)
    {
        var quantize = new QuantizeStageSpec
        {
            Method = method, Bits = 3, ActivationBits = method == QuantizeMethod.Qat ? 8 : null,
            TargetRatio = allocate ? 12 : null, CandidateBits = allocate ? [2, 4, 8] : null, SensitivityBatches = 2,
            CandidateSparsity = allocate ? [SparsityChoice.Keep, SparsityChoice.Nm(new NmPattern(2, 4)), SparsityChoice.Unstructured(0.75)] : null,
            Train = new TrainSpec { Steps = 10, BatchSize = 32, Lr = 1e-3, CheckpointEvery = 4, Seed = 11, HistogramEvery = null, EvalEvery = 5 },
        };
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec(), new PruneStageSpec { Sparsity = 0.5, FineTune = false }, quantize]);
        string straight = CompressionTestRecipes.TempDir(), interrupted = CompressionTestRecipes.TempDir();
        RunSummary Run(string dir, bool resume, Recorder r) => new RunExecutor
        {
            Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir, Resume = resume,
            ExtraCallbacks = stage => stage == "quantize" ? [r] : [],
        }.Execute();
        try
        {
            var full = new Recorder(null);
            Run(straight, false, full);
            var first = new Recorder(6);
            Assert.Throws<Interrupt>(() => Run(interrupted, false, first));
            var second = new Recorder(null);
            Run(interrupted, true, second);

            Assert.Equal(5, second.Losses[0].Step);
            var joined = first.Losses.Take(4).Concat(second.Losses).ToList();
            Assert.Equal(full.Losses.Select(l => l.Step), joined.Select(l => l.Step));
            for (int i = 0; i < joined.Count; i++)
                Assert.True(Math.Abs(full.Losses[i].Loss - joined[i].Loss) <= 1e-6, $"step {joined[i].Step}: {full.Losses[i].Loss} vs {joined[i].Loss}");
            var a = SafeTensors.Load(Path.Combine(straight, "models", "quantize", "model.safetensors"));
            var b = SafeTensors.Load(Path.Combine(interrupted, "models", "quantize", "model.safetensors"));
            foreach (var (k, v) in a) Assert.True(torch.allclose(v, b[k], rtol: 0, atol: 1e-7), k);
        }
        finally
        {
            CompressionTestRecipes.DeleteDir(straight);
            CompressionTestRecipes.DeleteDir(interrupted);
        }
    }
}
