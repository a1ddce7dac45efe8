using Distill.Checkpoints;
using Distill.Compression.Artifact;
using Distill.Compression.Quantization;
using Distill.Compression.Weightless;
using Distill.Losses;
using Distill.Models;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages.Results;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Compression;

/// <summary>The Weightless procedure as stages: prune → k-means → weightless (first layer) → weightless (second layer)
/// → export, on tiny MLPs.</summary>
public class WeightlessStageTests
{
    private static TrainSpec Steps(int n) => new() { Steps = n, BatchSize = 32, Lr = 1e-3, Seed = 11, HistogramEvery = null };

    [Fact]
    public void LayerByLayer_FreezesWithFalsePositives_AndTheArtifactDecodesToTheFineTunedStudent()
    {
        var recipe = CompressionTestRecipes.TinyMlp([
            new TrainTeacherStageSpec { Name = "teacher" },
            new DistillStageSpec(),
            new PruneStageSpec { Sparsity = 0.8, Exclude = [], Train = Steps(4) },
            new QuantizeStageSpec { Method = QuantizeMethod.Kmeans, Bits = 2, Exclude = [], Train = Steps(4) },
            new WeightlessStageSpec { Name = "wl0", Layers = ["layers.0"], Bits = 4, Train = Steps(6) },
            new WeightlessStageSpec { Name = "wl1", Layers = ["layers.1"], Bits = 5, Train = Steps(6) },
            new ExportStageSpec(),
        ], steps: 8, terms: [new SoftTargetSpec { Temperature = 2, Alpha = 0.5 }]);
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var summary = new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute();
            var wl0 = summary.Stages.OfType<WeightlessResult>().First();
            var wl1 = summary.Stages.OfType<WeightlessResult>().Last();
            var l0 = wl0.Layers["layers.0.weight"];
            Assert.Equal([32L, 784], l0.Shape);
            Assert.Equal(4, l0.Bits);
            Assert.InRange(l0.Codes, 2, 4);
            // 80 % of 25,088 pruned: ~20,000 positions at codes / 16 give hundreds of false positives.
            Assert.True(l0.FalsePositives > 100, $"{l0.FalsePositives} false positives");
            Assert.InRange(l0.FalsePositiveRate, l0.ExpectedFalsePositiveRate * 0.8, l0.ExpectedFalsePositiveRate * 1.2);
            Assert.Equal(["layers.0.weight"], wl0.Frozen);
            Assert.Equal(["layers.0.weight", "layers.1.weight"], wl1.Frozen);

            // The frozen first layer is untouched by the second stage's fine-tuning; the classifier (trained) stays
            // shared: at most its 4 k-means values, pruned zeros held.
            var m0 = SafeTensors.Load(Path.Combine(dir, "models", "wl0", "model.safetensors"));
            var m1 = SafeTensors.Load(Path.Combine(dir, "models", "wl1", "model.safetensors"));
            Assert.True(m0["layers.0.weight"].eq(m1["layers.0.weight"]).all().item<bool>());
            var q = SafeTensors.Load(Path.Combine(dir, "models", "quantize", "model.safetensors"));
            var cls = m1["classifier.weight"];
            Assert.True(cls.ne(0).le(q["classifier.weight"].ne(0)).all().item<bool>(), "a pruned classifier entry came back");
            Assert.True(torch.unique(cls.masked_select(cls.ne(0))).output.numel() <= 4);
            Assert.False(cls.eq(q["classifier.weight"]).all().item<bool>(), "fine-tuning did not move the shared values");

            // The first layer as frozen is exactly what its table decodes to, false positives included.
            var tables = WeightlessRecord.Load(Path.Combine(dir, "models", "wl1"));
            Assert.Equal(2, tables.Tables.Count);
            var decoded = tables.Tables["layers.0.weight"].Decode(32 * 784);
            Assert.Equal(decoded, m1["layers.0.weight"].contiguous().data<float>().ToArray());

            // Export: BLOOMIER records, format 4, and the reloaded model is the fine-tuned student, bit for bit.
            var export = summary.Stages.OfType<ExportResult>().Single();
            Assert.Equal(0.0, export.RoundtripMaxAbsDiff);
            string artifact = Path.Combine(dir, "artifacts", "export", "model.dcmp");
            Assert.Equal(4, File.ReadAllBytes(artifact)[4]);
            using var read = ArtifactReader.Read(artifact);
            Assert.Equal(ValueKind.Bloomier, read.Records.Single(r => r.Name == "layers.0.weight").Values);
            // The 16 x 32 layer's ~100 non-zeros (plus its false positives) can be smaller as relative indices and a
            // codebook than as a table: the encoder keeps the smallest, both decode to the same weight. The table's record
            // would add 16 bytes to its cells: the name after "layers.0.bias" (2 + "1.weight") and rank, dims, kinds, flags (6).
            var l1 = read.Records.Single(r => r.Name == "layers.1.weight");
            Assert.True(l1.Values == ValueKind.Bloomier || l1.Bytes <= 16 + wl1.Layers["layers.1.weight"].Bytes, $"{l1.Values}, {l1.Bytes} B");
            Assert.Equal(wl1.EstimatedArtifactBytes, export.ArtifactBytes);
            Assert.StartsWith("layers.0.weight: bloomier 4b", export.Layers["layers.0.weight"].Encoding);
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }

    [Fact]
    public void ALayerWithTooManyDistinctValues_IsAClearError()
    {
        var recipe = CompressionTestRecipes.TinyMlp([
            new BaselineStageSpec(),
            new PruneStageSpec { Sparsity = 0.5, FineTune = false },
            new WeightlessStageSpec { Layers = ["layers.0"], Bits = 6, FineTune = false },
        ], steps: 4);
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var e = Assert.ThrowsAny<Exception>(() => new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute());
            Assert.Contains("distinct values", e.ToString());
            Assert.Contains("kmeans", e.ToString());
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }
}
