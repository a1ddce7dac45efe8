using System.Text.Json;
using Distill.Checkpoints;
using Distill.Compression.Pruning;
using Distill.Models.Pruning;
using Distill.Hf;
using Distill.Models;
using Distill.Models.Vit;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Stages.Results;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

/// <summary>The prune stage's <c>units:</c> option and <c>pruned_heads</c> in recipes: what validates, the errors at
/// their keys, and a tiny ViT run that removes heads and FFN neurons and exports a loadable HF folder.</summary>
[Collection(SerialCollection.Name)]
public sealed class HeadPruningRecipeTests
{
    private const string BertModels = """
        teacher: { model: bert, config: { hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 32, max_position_embeddings: 64 } }
        student: { model: bert, config: { hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 32, max_position_embeddings: 64 } }
        """;

    private static string BertData =>
        $"data: {{ dataset: sst2, path: '{Path.Combine(TestPaths.Data, "sst2")}', tokenizer: '{Path.Combine(TestPaths.Data, "bert-base-uncased-tokenizer")}', train_split: train, eval_split: dev, max_length: 32 }}";

    private const string W2vModels = """
        teacher: { model: wav2vec2, config: { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 37, conv_dim: [32, 32], conv_kernel: [10, 3], conv_stride: [5, 2], num_conv_pos_embeddings: 16, num_conv_pos_embedding_groups: 4 } }
        student: { model: wav2vec2, config: { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 37, conv_dim: [32, 32], conv_kernel: [10, 3], conv_stride: [5, 2], num_conv_pos_embeddings: 16, num_conv_pos_embedding_groups: 4 } }
        """;

    private static string W2vData => $"data: {{ dataset: fsdd, path: '{Path.Combine(TestPaths.Data, "fsdd")}' }}";

    private const string MlpModels = "teacher: { model: mlp }\nstudent: { model: mlp }";

    private static string MlpData => $"data: {{ dataset: mnist, path: '{CompressionTestRecipes.MnistDir}' }}";

    /// <summary>Validates (binding, checks and the shape probe) a recipe of these parts; returns "key: message" lines.</summary>
    private static List<string> Errors(string models, string data, string prune, string distill = "distill: { terms: [ { kind: soft_target } ] }")
    {
        string dir = CompressionTestRecipes.TempDir();
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "recipe.yaml");
        File.WriteAllText(path, models + "\n" + data + "\n" + distill + "\ntrain: { steps: 2, batch_size: 8 }\nstages:\n  - kind: train_teacher\n  - kind: distill\n" + prune);
        try { return RecipeValidation.Check(path).Errors.Select(e => $"{e.KeyPath}: {e.Message}").ToList(); }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }

    [Fact]
    public void HeadsAndFfn_OnBert_Validate()
    {
        var errors = Errors(BertModels, BertData, "  - kind: prune\n    method: structured\n    sparsity: 0.5\n    units: [heads, ffn]\n    score: taylor\n");
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public void LayerSparsity_IsAllowedForHeadsOnly()
    {
        var ok = Errors(BertModels, BertData,
            "  - kind: prune\n    method: structured\n    sparsity: 0.25\n    units: [heads]\n    layer_sparsity: { 'bert.encoder.layer.1.*': 0.5 }\n");
        Assert.True(ok.Count == 0, string.Join("\n", ok));
        var bad = Errors(BertModels, BertData,
            "  - kind: prune\n    method: structured\n    sparsity: 0.25\n    units: [heads, ffn]\n    layer_sparsity: { 'bert.encoder.layer.1.*': 0.5 }\n");
        Assert.Contains(bad, e => e.StartsWith("stages[2].layer_sparsity: a bert student has one intermediate_size", StringComparison.Ordinal) && e.Contains("units: [heads]"));
    }

    [Fact]
    public void UnknownUnit_ListsTheValidOnes()
    {
        var errors = Errors(BertModels, BertData, "  - kind: prune\n    method: structured\n    sparsity: 0.5\n    units: [head]\n");
        var e = Assert.Single(errors, m => m.StartsWith("stages[2].units[0]", StringComparison.Ordinal));
        Assert.Contains("ffn", e);
        Assert.Contains("heads", e);
    }

    [Fact]
    public void HeadsOnWav2Vec2_IsRefusedClearly()
    {
        var errors = Errors(W2vModels, W2vData, "  - kind: prune\n    method: structured\n    sparsity: 0.5\n    units: [heads]\n");
        Assert.Contains(errors, e => e.StartsWith("stages[2].units: attention heads cannot be removed from a wav2vec2 student", StringComparison.Ordinal)
                                     && e.Contains("pruned_heads"));
    }

    [Fact]
    public void UnitsOfAnotherFamily_OrOfAnotherMethod_AreErrors()
    {
        var mlp = Errors(MlpModels, MlpData, "  - kind: prune\n    method: structured\n    sparsity: 0.5\n    units: [ffn]\n");
        Assert.Contains("stages[2].units: a mlp student has no 'ffn' units; its units are neurons", mlp);
        var magnitude = Errors(BertModels, BertData, "  - kind: prune\n    sparsity: 0.5\n    units: [heads]\n");
        Assert.Contains(magnitude, e => e.StartsWith("stages[2].units: 'units' chooses what method: structured removes", StringComparison.Ordinal));
        var twice = Errors(BertModels, BertData, "  - kind: prune\n    method: structured\n    sparsity: 0.5\n    units: [heads, heads]\n");
        Assert.Contains("stages[2].units: 'heads' is listed twice", twice);
        var empty = Errors(BertModels, BertData, "  - kind: prune\n    method: structured\n    sparsity: 0.5\n    units: []\n");
        Assert.Contains(empty, e => e.StartsWith("stages[2].units: list at least one kind of unit (ffn, heads)", StringComparison.Ordinal));
    }

    [Fact]
    public void PrunedHeads_InARecipeConfig_AreValidated_AndAttentionLossNamesTheHeadMismatch()
    {
        string Models(string pruned) => BertModels.Replace("student: { model: bert, config: { ", $"student: {{ model: bert, config: {{ pruned_heads: {pruned}, ");
        var all = Errors(Models("{ '0': [0, 1, 2, 3] }"), BertData, "");
        Assert.Contains(all, e => e.StartsWith("student.config.pruned_heads", StringComparison.Ordinal) && e.Contains("all 4 heads are pruned"));

        const string attention = "distill: { terms: [ { kind: attention, layers: [[1, 1], [2, 2]] } ] }";
        var mismatch = Errors(Models("{ '0': [1] }"), BertData, "", attention);
        Assert.Contains(mismatch, e => e.StartsWith("distill.terms[0].layers", StringComparison.Ordinal)
                                       && e.Contains("the student layer has 3 attention heads and the teacher layer 4") && e.Contains("pruned_heads"));
        var fine = Errors(Models("{ '0': [1] }"), BertData, "", "distill: { terms: [ { kind: attention, layers: [[2, 2]] } ] }");
        Assert.True(fine.Count == 0, string.Join("\n", fine));
    }

    private const string KdAndAttention = "distill: { terms: [ { kind: soft_target, name: kd }, { kind: attention, name: attn, layers: uniform } ] }";

    [Fact]
    public void HeadPruning_WithKdFineTuningThroughTheAttentionTerm_IsAValidationError_UntilTermsLeavesItOut()
    {
        // Student and teacher both have 4 heads per layer; removing half leaves 2, which the attention term cannot compare.
        const string prune = "  - kind: prune\n    method: structured\n    sparsity: 0.5\n    units: [heads, ffn]\n";
        var errors = Errors(BertModels, BertData, prune, KdAndAttention);
        var e = Assert.Single(errors);
        Assert.StartsWith("stages[2].units: after this stage student layer 1 keeps 2 of its 4 attention heads, but the attention term 'attn'", e);
        Assert.Contains("teacher layer 1, which has 4", e);
        Assert.Contains("terms: [kd]", e);

        var withTerms = Errors(BertModels, BertData, prune + "    terms: [kd]\n", KdAndAttention);
        Assert.True(withTerms.Count == 0, string.Join("\n", withTerms));
        // The attention term listed explicitly: the error moves to 'terms'.
        var listed = Errors(BertModels, BertData, prune + "    terms: [kd, attn]\n", KdAndAttention);
        Assert.Contains(listed, m => m.StartsWith("stages[2].terms: after this stage student layer 1 keeps 2", StringComparison.Ordinal));
        // Not a problem when no head is removed, when the stage does not train, or with cross-entropy.
        Assert.Empty(Errors(BertModels, BertData, prune.Replace("[heads, ffn]", "[ffn]"), KdAndAttention));
        Assert.Empty(Errors(BertModels, BertData, prune + "    fine_tune: false\n", KdAndAttention));
        Assert.Empty(Errors(BertModels, BertData, prune + "    objective: ce\n", KdAndAttention));
        // Heads kept where layer 1 is excluded: that layer still has 4, but layer 2 keeps 2 and is compared with teacher layer 2.
        var excluded = Errors(BertModels, BertData, prune.Replace("[heads, ffn]", "[heads]") + "    exclude: ['bert.encoder.layer.0.*']\n", KdAndAttention);
        Assert.Contains(excluded, m => m.Contains("student layer 2 keeps 2 of its 4") && m.Contains("teacher layer 2"));
    }

    [Fact]
    public void QuantizeAfterHeadPruning_WithTheAttentionTerm_IsAValidationError_UntilItsTermsLeaveItOut()
    {
        const string prune = "  - kind: prune\n    method: structured\n    sparsity: 0.5\n    units: [heads]\n    terms: [kd]\n";
        const string quantize = "  - kind: quantize\n    method: qat\n    bits: 4\n";
        var errors = Errors(BertModels, BertData, prune + quantize, KdAndAttention);
        var e = Assert.Single(errors);
        Assert.StartsWith("stages[3].terms: after the earlier head pruning student layer 1 keeps 2 of its 4 attention heads, but the attention term 'attn'", e);
        Assert.Contains("terms: [kd]", e);
        Assert.Empty(Errors(BertModels, BertData, prune + quantize + "    terms: [kd]\n", KdAndAttention));
        Assert.Empty(Errors(BertModels, BertData, prune + quantize + "    objective: ce\n", KdAndAttention));
        Assert.Empty(Errors(BertModels, BertData, prune + "  - kind: quantize\n    method: ptq\n", KdAndAttention));
        // Without head pruning before it, the quantize stage may use every term; its terms are checked like the prune stage's.
        Assert.Empty(Errors(BertModels, BertData, quantize, KdAndAttention));
        Assert.Contains("stages[2].terms[0]: no distill term is named 'hidden'; the terms are kd, attn (a term's name is its 'name', else its kind)",
            Errors(BertModels, BertData, quantize + "    terms: [hidden]\n", KdAndAttention));
    }

    [Fact]
    public void Terms_MustNameDistillTerms()
    {
        const string prune = "  - kind: prune\n    method: structured\n    sparsity: 0.5\n    units: [ffn]\n";
        var unknown = Errors(BertModels, BertData, prune + "    terms: [kd, attention]\n", KdAndAttention);
        Assert.Contains("stages[2].terms[1]: no distill term is named 'attention'; the terms are kd, attn (a term's name is its 'name', else its kind)", unknown);
        var empty = Errors(BertModels, BertData, prune + "    terms: []\n", KdAndAttention);
        Assert.Contains(empty, m => m.StartsWith("stages[2].terms: list at least one of distill.terms", StringComparison.Ordinal));
        var ce = Errors(BertModels, BertData, prune + "    terms: [kd]\n    objective: ce\n", KdAndAttention);
        Assert.Contains(ce, m => m.StartsWith("stages[2].terms: 'terms' chooses the distillation terms", StringComparison.Ordinal));
        var twice = Errors(BertModels, BertData, prune + "    terms: [kd, kd]\n", KdAndAttention);
        Assert.Contains("stages[2].terms: 'kd' is listed twice", twice);
    }

    [Fact]
    public void VitRun_RemovesHeadsAndFfn_AndExportsAnHfFolderThatLoadsBack()
    {
        static ViTConfig Vit() => new()
        {
            HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 32, ImageSize = 32, PatchSize = 8, NumChannels = 3, NumLabels = 10,
        };
        var recipe = new Recipe
        {
            Teacher = new ModelSpec { Model = "vit", Config = Vit() },
            Student = new ModelSpec { Model = "vit", Config = Vit() },
            Data = new DataSpec { Dataset = "cifar10", Path = Path.Combine(TestPaths.Data, "cifar10"), TrainLimit = 64, EvalLimit = 32, EvalBatchSize = 32 },
            Train = new TrainSpec { Steps = 2, BatchSize = 16, Lr = 1e-3, Seed = 5, HistogramEvery = null, CheckpointEvery = 1000 },
            Output = new OutputSpec { Tensorboard = false },
            Stages =
            [
                new BaselineStageSpec(),
                new PruneStageSpec
                {
                    Method = PruneMethod.Structured, Sparsity = 0.5, Units = [PruneUnit.Heads, PruneUnit.Ffn], Score = UnitScore.Taylor,
                    ImportanceBatches = 2, FineTune = false,
                },
                new ExportStageSpec(),
            ],
        };
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var summary = new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute();
            var p = summary.Stages.OfType<PruneResult>().Single();
            var config = p.Config.Deserialize<ViTConfig>()!;
            Assert.Equal(16, config.IntermediateSize);
            Assert.Equal(2, config.PrunedHeads!.Count);
            Assert.All(config.PrunedHeads.Values, heads => Assert.Equal(2, heads.Count));
            Assert.Equal(["heads", "ffn"], p.Units!);
            // 2 layers × 2 heads × (3·(4·16 + 4) + 16·4) and 2 layers × 16 FFN neurons × (16 + 1 + 16).
            Assert.Equal(p.ParamsBefore!.Value - 4 * 268 - 2 * 16 * 33, p.Params);

            using (var artifact = Distill.Compression.Artifact.ModelArtifact.Load(Path.Combine(dir, "artifacts", "export", "model.dcmp"), ModelRegistry.Default))
            {
                Assert.Equal(config.PrunedHeads, ((ViTConfig)artifact.Config).PrunedHeads);
                Assert.Equal(p.Params, artifact.ParameterCount());
            }

            string folder = Path.Combine(dir, "hf");
            HfRunExport.Export(dir, "prune", folder);
            using var fromRun = ModelCheckpoint.Load(Path.Combine(dir, "models", "prune"), ModelRegistry.Default);
            var info = HfPretrained.Inspect(folder);
            using var fromHf = ModelRegistry.Default.Get(info.Family.Family).Build(info.Config);
            Assert.True(HfPretrained.LoadInto(fromHf, folder).IsExact);
            Assert.Equal(config.PrunedHeads, ((ViTConfig)fromHf.Config).PrunedHeads);
            fromRun.eval();
            fromHf.eval();
            using var _ = torch.no_grad();
            var batch = new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = torch.randn(2, 3, 32, 32) }, null);
            Assert.True(torch.equal(fromRun.call(batch).Logits, fromHf.call(batch).Logits).all().item<bool>());
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }
}
