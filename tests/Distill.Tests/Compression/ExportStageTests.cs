using Distill.Checkpoints;
using Distill.Compression.Artifact;
using Distill.Models;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages.Results;
using Distill.Stages;
using Distill.Tests.Training;
using Distill.Training;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Compression;

public class ExportStageTests
{
    [Fact]
    public void Export_ReportsTheModelLoadedBackFromTheArtifact()
    {
        var prune = new PruneStageSpec
        {
            Sparsity = 0.9, Exclude = [],
            Train = new Distill.Recipes.TrainSpec { Steps = 6, BatchSize = 32, Lr = 1e-3, Seed = 11, HistogramEvery = null },
        };
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec(), prune, new ExportStageSpec()]);
        recipe = recipe with { Output = recipe.Output with { Tensorboard = true } };
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var summary = new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute();
            var export = summary.Stages.OfType<ExportResult>().Single();
            string artifact = Path.Combine(dir, "artifacts", "export", "model.dcmp");
            long size = new FileInfo(artifact).Length;
            Assert.Equal(size, (long)export.ArtifactBytes);
            Assert.Equal(size, (long)export.PredictedBytes);
            // MLP 784-32-16-10: (784·32 + 32 + 32·16 + 16 + 16·10 + 10) parameters · 4 bytes.
            long fp32 = (784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10) * 4;
            Assert.Equal(fp32, (long)export.Fp32Bytes);
            Assert.Equal((double)fp32 / size, (double)export.CompressionRatio, 9);
            Assert.True((double)export.CompressionRatio > 3, $"90 % sparse weights should shrink > 3x, got {export.CompressionRatio}");
            Assert.Equal(0.0, (double)export.RoundtripMaxAbsDiff);
            // TensorBoard: the pruning callback's and the export's scalars beside the training curves, every record in Unix seconds.
            Assert.Contains(TensorBoardEvents.ReadScalars(Path.Combine(dir, "tb", "prune")), s => s.Tag == "sparsity/overall");
            Assert.Contains(TensorBoardEvents.ReadScalars(Path.Combine(dir, "tb", "export")), s => s.Tag == "compression/artifact_bytes" && s.Value == size);
            TensorBoardEvents.AssertUnixWallTimes(TensorBoardEvents.Events(Path.Combine(dir, "tb")).ToList());

            // The reported accuracy is that of the model rebuilt from the artifact file alone.
            using var loaded = ModelArtifact.Load(artifact, ModelRegistry.Default);
            var run = new RunEnvironment { Recipe = recipe, RecipePath = "", RecipeSha256 = "", RunDir = dir, Device = torch.CPU };
            var metrics = Evaluator.Evaluate(loaded, run.EvalData, recipe.Data.EvalBatchSize, torch.CPU);
            Assert.Equal(metrics["accuracy"], export.Metrics["accuracy"]);
            Assert.Equal(metrics["loss"], export.Metrics["loss"], 9);

            // And its weights are exactly the pruned student's.
            var pruned = SafeTensors.Load(Path.Combine(dir, "models", "prune", "model.safetensors"));
            foreach (var (k, v) in loaded.state_dict()) Assert.True(v.eq(pruned[k]).all().item<bool>(), k);
            Assert.True((double)summary.Stages.OfType<PruneResult>().Single().EstimatedCompressionRatio > 3);
            Assert.Equal(size, (long)summary.Stages.OfType<PruneResult>().Single().EstimatedArtifactBytes);
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }

    [Fact]
    public void Export_WithFloatBitsAndNoTensorNames_WritesAffineUnnamedRecords_AndReportsTheReloadedModel()
    {
        var export = new ExportStageSpec { FloatBits = 8, TensorNames = false };
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec(), export]);
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var summary = new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute();
            var result = summary.Stages.OfType<ExportResult>().Single();
            string artifact = Path.Combine(dir, "artifacts", "export", "model.dcmp");
            Assert.Equal(new FileInfo(artifact).Length, (long)result.ArtifactBytes);
            // Unnamed records: only the model registry can read the file back.
            Assert.Contains("no tensor names", Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(artifact)).Message);
            using var loaded = ModelArtifact.Load(artifact, ModelRegistry.Default);
            var baseline = SafeTensors.Load(Path.Combine(dir, "models", "baseline", "model.safetensors"));
            // Every float tensor is on its own 255-step grid: off by at most half a step, and not exact (lossy).
            double maxDiff = 0;
            foreach (var (k, v) in loaded.state_dict())
            {
                var x = baseline[k].data<float>().ToArray();
                var y = v.data<float>().ToArray();
                float halfStep = (x.Max() - x.Min()) / 255 / 2;
                for (int i = 0; i < x.Length; i++)
                {
                    Assert.True(Math.Abs(x[i] - y[i]) <= halfStep * 1.0001 + 1e-7, $"{k}[{i}]: {y[i]} vs {x[i]}");
                    maxDiff = Math.Max(maxDiff, Math.Abs(x[i] - y[i]));
                }
            }
            Assert.True(maxDiff > 0);
            Assert.Equal(maxDiff, (double)result.RoundtripMaxAbsDiff, 6);
            // 8 bits per parameter plus per-tensor overhead: about 4x smaller than float32.
            Assert.True((double)result.CompressionRatio > 3.8, $"ratio {result.CompressionRatio}");
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }
}
