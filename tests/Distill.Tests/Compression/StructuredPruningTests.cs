using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Models.Bert;
using Distill.Models.Cnn;
using Distill.Models.Mlp;
using Distill.Models.Vit;
using Distill.Models;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages.Results;
using Distill.Stages;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

public class StructuredPruningTests
{
    /// <summary>Removes half of every group by magnitude; checks the smaller shapes and that the smaller model's logits
    /// equal those of the original with the removed units' outputs masked (zeroed where the next layer reads them).</summary>
    private static DistillModel ShrinkAndCompare(DistillModel model, Batch batch, double sparsity = 0.5)
    {
        model.eval();
        var (groups, _) = StructuredPruning.Groups(model);
        var keep = groups.ToDictionary(g => g.Module, g => StructuredPruning.Keep(StructuredPruning.MagnitudeScores(model, g), sparsity));
        var smaller = StructuredPruning.Shrink(model, groups, keep, ModelRegistry.Default);
        smaller.eval();
        Assert.True(smaller.ParameterCount() < model.ParameterCount());
        var before = smaller.state_dict();
        foreach (var g in groups)
            foreach (var slice in g.Producers)
                Assert.Equal(keep[g.Module].Length, before[slice.Name].shape[slice.Dim]);

        StructuredPruning.MaskConsumers(model, groups, keep);
        using var _ = torch.no_grad();
        var expected = model.call(batch).Logits;
        var actual = smaller.call(batch).Logits;
        Assert.True(torch.allclose(actual, expected, rtol: 1e-4, atol: 1e-5),
            $"max |Δ| = {(actual - expected).abs().max().item<float>()}");
        return smaller;
    }

    private static Batch Pixels(params long[] shape) => new(new Dictionary<string, Tensor> { ["pixel_values"] = torch.randn(shape) }, null);

    [Fact]
    public void Mlp_HiddenNeurons()
    {
        var g = ParamInit.Seeded(30);
        using var model = ParamInit.Build(g, () => new MlpModel(new MlpConfig { InputSize = 20, HiddenSizes = [16, 10], NumLabels = 4 }));
        var smaller = ShrinkAndCompare(model, Pixels(6, 20));
        Assert.Equal([8, 5], ((MlpConfig)smaller.Config).HiddenSizes);
    }

    [Fact]
    public void Cnn_ConvChannels_WithBatchNorm_AndTheHeadColumnsTheyFeed()
    {
        var g = ParamInit.Seeded(31);
        using var model = ParamInit.Build(g, () => new CnnModel(new CnnConfig { InChannels = 1, ImageSize = 8, Channels = [6, 4], HiddenSize = 10, NumLabels = 3 }));
        // Non-trivial BatchNorm statistics: a few training-mode passes.
        model.train();
        using (torch.no_grad()) for (int i = 0; i < 3; i++) model.call(Pixels(8, 1, 8, 8));
        var smaller = ShrinkAndCompare(model, Pixels(5, 1, 8, 8));
        var c = (CnnConfig)smaller.Config;
        Assert.Equal([3, 2], c.Channels);
        Assert.Equal(5, c.HiddenSize);
        Assert.Equal([5L, 2 * 2 * 2], smaller.state_dict()["fc.weight"].shape);
    }

    [Fact]
    public void Bert_FfnNeurons_SameCountPerLayer()
    {
        var g = ParamInit.Seeded(32);
        var config = new BertConfig
        {
            VocabSize = 50, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 24,
            MaxPositionEmbeddings = 16, NumLabels = 3, HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0,
        };
        using var model = ParamInit.Build(g, () => new BertForSequenceClassification(config));
        var batch = new Batch(new Dictionary<string, Tensor>
        {
            ["input_ids"] = torch.randint(0, 50, [3, 7], generator: g),
            ["attention_mask"] = torch.tensor(new long[,] { { 1, 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 1, 0, 0, 0 }, { 1, 1, 1, 1, 1, 1, 0 } }),
            ["token_type_ids"] = torch.zeros(3, 7, ScalarType.Int64),
        }, null);
        var smaller = ShrinkAndCompare(model, batch, sparsity: 0.25);
        Assert.Equal(18, ((BertConfig)smaller.Config).IntermediateSize);
        Assert.Equal(2, StructuredPruning.Groups(model).Groups.Count);
    }

    [Fact]
    public void Vit_FfnNeurons()
    {
        var g = ParamInit.Seeded(33);
        var config = new ViTConfig
        {
            HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 20, ImageSize = 8, PatchSize = 4,
            NumChannels = 3, NumLabels = 3,
        };
        using var model = ParamInit.Build(g, () => new ViTForImageClassification(config));
        var smaller = ShrinkAndCompare(model, Pixels(2, 3, 8, 8));
        Assert.Equal(10, ((ViTConfig)smaller.Config).IntermediateSize);
    }

    [Fact]
    public void TaylorScore_IsTheSquaredDirectionalDerivativeOfTheLoss()
    {
        var g = ParamInit.Seeded(34);
        using var model = ParamInit.Build(g, () => new MlpModel(new MlpConfig { InputSize = 12, HiddenSizes = [6], NumLabels = 3 }));
        var batch = new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = torch.randn(10, 12, generator: g) }, torch.randint(0, 3, [10], generator: g));
        var (groups, _) = StructuredPruning.Groups(model);
        Func<DistillModel, Batch, Tensor> loss = (m, b) => nn.functional.cross_entropy(m.call(b).Logits, b.RequireLabels());
        var scores = StructuredPruning.TaylorScores(model, groups, 1, _ => batch, loss)["layers.0"];
        // d/dα L(unit u's incoming weight row and bias scaled by α) at α = 1, by central differences in float64.
        model.to(ScalarType.Float64);
        var b64 = new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = batch["pixel_values"].to(ScalarType.Float64) }, batch.Labels);
        var sd = model.state_dict();
        for (int u = 0; u < 6; u++)
        {
            double L(double alpha)
            {
                using var _ = torch.no_grad();
                var w = sd["layers.0.weight"].clone();
                var bias = sd["layers.0.bias"].clone();
                sd["layers.0.weight"][u].mul_(alpha);
                sd["layers.0.bias"][u].mul_(alpha);
                double value = loss(model, b64).item<double>();
                sd["layers.0.weight"].copy_(w);
                sd["layers.0.bias"].copy_(bias);
                return value;
            }
            double eps = 1e-4, derivative = (L(1 + eps) - L(1 - eps)) / (2 * eps);
            Assert.True(Math.Abs(scores[u] - derivative * derivative) <= 1e-4 * Math.Max(1e-6, derivative * derivative) + 1e-9,
                $"unit {u}: score {scores[u]}, (dL/dα)² = {derivative * derivative}");
        }
    }

    [Fact]
    public void StructuredStage_ShrinksTheStudent_WhichExportsAndLoadsSmaller()
    {
        var prune = new PruneStageSpec
        {
            Method = PruneMethod.Structured, Sparsity = 0.5, Score = UnitScore.Taylor, ImportanceBatches = 2,
            Train = new Distill.Recipes.TrainSpec { Steps = 4, BatchSize = 32, Lr = 1e-3, Seed = 11, HistogramEvery = null },
        };
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec(), prune, new ExportStageSpec()]);
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var summary = new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute();
            var p = summary.Stages.OfType<PruneResult>().Single();
            // 784-32-16-10 → 784-16-8-10
            Assert.Equal(784 * 16 + 16 + 16 * 8 + 8 + 8 * 10 + 10, p.Params);
            Assert.Equal(784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10, p.ParamsBefore!.Value);
            using var loaded = ModelArtifact.Load(Path.Combine(dir, "artifacts", "export", "model.dcmp"), ModelRegistry.Default);
            Assert.Equal([16, 8], ((MlpConfig)loaded.Config).HiddenSizes);
            Assert.Equal(p.Params, loaded.ParameterCount());
            var state = Distill.Checkpoints.CheckpointIO.ReadState(Path.Combine(dir, "models", "prune"));
            Assert.Contains("\"hidden_sizes\":[16,8]", state.Config.GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""));
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }
}
