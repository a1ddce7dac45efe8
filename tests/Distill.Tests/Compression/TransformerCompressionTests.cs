using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Losses;
using Distill.Models;
using Distill.Models.Vit;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Stages.Results;
using Xunit;

namespace Distill.Tests.Compression;

/// <summary>The transformer target at toy scale: a ViT student, 2:4 sparsity, then 4-bit KD-QAT, exported.</summary>
public class TransformerCompressionTests
{
    private static ViTConfig Vit(int hidden, int layers) => new()
    {
        HiddenSize = hidden, NumHiddenLayers = layers, NumAttentionHeads = 2, IntermediateSize = 2 * hidden,
        ImageSize = 32, PatchSize = 8, NumChannels = 3, NumLabels = 10,
    };

    [Fact]
    public void Vit_2of4_Then4BitKdQat_ExportsNmLinearCodes_ThatLoadBackExactly()
    {
        var train = new TrainSpec { Steps = 6, BatchSize = 16, Lr = 1e-3, Seed = 5, HistogramEvery = null, CheckpointEvery = 1000 };
        var recipe = new Recipe
        {
            Teacher = new ModelSpec { Model = "vit", Config = Vit(32, 2) },
            Student = new ModelSpec { Model = "vit", Config = Vit(16, 2) },
            Data = new DataSpec { Dataset = "cifar10", Path = Path.Combine(TestPaths.Data, "cifar10"), TrainLimit = 128, EvalLimit = 64, EvalBatchSize = 64 },
            Distill = new DistillSpec { Terms = [new SoftTargetSpec()] },
            Train = train,
            Output = new OutputSpec { Tensorboard = false },
            Stages =
            [
                new TrainTeacherStageSpec(), new DistillStageSpec(),
                new PruneStageSpec { Method = PruneMethod.NM, Pattern = new NmPattern(2, 4) },
                new QuantizeStageSpec { Method = QuantizeMethod.Qat, Bits = 4 },
                new ExportStageSpec(),
            ],
        };
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var summary = new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute();
            var q = summary.Stages.OfType<QuantizeResult>().Single();
            var export = summary.Stages.OfType<ExportResult>().Single();
            using var loaded = ModelArtifact.Load(Path.Combine(dir, "artifacts", "export", "model.dcmp"), ModelRegistry.Default);
            var selected = PruneSelector.Select(loaded, null, null);
            Assert.NotEmpty(selected);
            var layers = export.Layers;
            foreach (var w in selected)
            {
                Assert.True(NmPruning.Satisfies(w.Weight.detach(), new NmPattern(2, 4)), $"{w.Name} lost its 2:4 pattern");
                string encoding = (string)layers[w.Name].Encoding;
                Assert.StartsWith($"{w.Name}: linear 4b", encoding);
            }
            Assert.Equal(0.0, (double)export.RoundtripMaxAbsDiff);
            Assert.Equal(q.Metrics["accuracy"], export.Metrics["accuracy"]);
            Assert.DoesNotContain(selected, w => w.Name.Contains("embeddings", StringComparison.Ordinal));
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }
}
