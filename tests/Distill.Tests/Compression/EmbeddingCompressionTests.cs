using Distill.Checkpoints;
using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Losses;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Vit;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Stages.Results;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

/// <summary>Embedding weights are compressed only on request (<see cref="PruneSelector"/>), and a BERT whose word
/// embeddings are pruned 2:4 and quantized to 4 bits exports and loads back exactly.</summary>
// The BERT run's weights, and so which scale encoding is smallest, depend on its seed only: the run initialises and
// trains from seeded generators, so parallel tests drawing from torch's global generator cannot change them.
public class EmbeddingCompressionTests
{
    private static BertConfig Bert(int vocab, int hidden) => new()
    {
        VocabSize = vocab, HiddenSize = hidden, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 2 * hidden,
        MaxPositionEmbeddings = 64, NumLabels = 2,
    };

    private static List<string> Names(DistillModel model, List<string>? include, List<string>? exclude) =>
        PruneSelector.Select(model, include, exclude).Select(w => w.Name).ToList();

    [Fact]
    public void Tables_AreSelectedOnlyByPatternsThatNameNoLinearModule()
    {
        using var bert = new BertForSequenceClassification(Bert(100, 16));
        const string word = "bert.embeddings.word_embeddings.weight";
        string[] tables = [word, "bert.embeddings.position_embeddings.weight", "bert.embeddings.token_type_embeddings.weight"];
        // Defaults and catch-alls keep the tables out (the old behaviour).
        Assert.DoesNotContain(Names(bert, null, null), n => n.Contains("embeddings", StringComparison.Ordinal));
        Assert.DoesNotContain(Names(bert, ["*"], null), n => n.Contains("embeddings", StringComparison.Ordinal));
        Assert.DoesNotContain(Names(bert, ["bert.*"], []), n => n.Contains("embeddings", StringComparison.Ordinal));
        // A pattern that names a table selects it even under the default exclude list ...
        Assert.Equal([word], Names(bert, ["*word_embeddings"], null));
        Assert.Equal(tables, Names(bert, ["bert.embeddings.*"], null));
        // ... next to the Linear modules of other patterns, but a recipe's own exclude still applies.
        var both = Names(bert, ["bert.encoder.*", "*word_embeddings"], null);
        Assert.Contains(word, both);
        Assert.Contains("bert.encoder.layer.0.attention.self.query.weight", both);
        Assert.Equal(tables[..2], Names(bert, ["bert.embeddings.*"], ["*token_type*"]));
        Assert.All(PruneSelector.Select(bert, ["*word_embeddings"], null), w => Assert.True(w.IsEmbedding));
    }

    [Fact]
    public void VitPositionEmbeddings_AndWav2Vec2PositionalConvolution_AreOptIn()
    {
        using var vit = new ViTForImageClassification(new ViTConfig
        {
            HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 32, ImageSize = 32, PatchSize = 8, NumChannels = 3, NumLabels = 10,
        });
        Assert.Equal(["vit.embeddings.position_embeddings"], Names(vit, ["vit.embeddings"], null));
        // "vit.embeddings*" also matches the patch projection (a Conv2d), so it names no embedding weight; the default
        // exclude list leaves the projection out.
        Assert.Empty(Names(vit, ["vit.embeddings*"], null));
        Assert.Equal(["vit.embeddings.patch_embeddings.projection.weight"], Names(vit, ["vit.embeddings*"], []));

        var loaded = RecipeLoader.Load(Path.Combine(TestPaths.RepoRoot, "recipes", "wav2vec2-fsdd.yaml"));
        Assert.True(loaded.Succeeded);
        using var w2v = ModelRegistry.Default.Get("wav2vec2").Build(loaded.Recipe!.Student.Config!);
        Assert.DoesNotContain(Names(w2v, null, null), n => n.Contains("pos_conv", StringComparison.Ordinal));
        Assert.Equal(["wav2vec2.encoder.pos_conv_embed.conv.weight_v"], Names(w2v, ["*pos_conv_embed*"], null));
    }

    [Fact]
    public void KMeansSharing_OfAWordTable_IsStoredAsACodebook()
    {
        using var bert = ParamInit.Build(3, () => new BertForSequenceClassification(Bert(500, 16)));
        var table = PruneSelector.Select(bert, ["*word_embeddings"], null);
        var masks = new MaskSet(table);
        var shared = new SharedWeights(table.Select(w => (w, 3)), masks);
        shared.Apply();
        var weight = table[0].Weight.detach();
        Assert.True(weight.unique().Item1.numel() <= 8 + 1); // 8 centroids (and the zero padding row)
        var plan = ModelArtifact.Plan(bert, new ArtifactOptions());
        var record = plan.Tensors.Single(t => t.Name == "bert.embeddings.word_embeddings.weight");
        Assert.Equal(ValueKind.Codebook, record.Values);
        Assert.True(record.Bits <= 4);
    }

    [Theory]
    [InlineData("qat")]
    [InlineData("ptq")]
    public void Bert_WithPrunedFourBitWordEmbeddings_ExportsTheQuantizedModelExactly(string method)
    {
        string sst2 = Path.Combine(TestPaths.Data, "sst2");
        List<string> encoder = ["bert.encoder.*", "bert.pooler.*"];
        bool qat = method == "qat";
        var recipe = new Recipe
        {
            Teacher = new ModelSpec { Model = "bert", Config = Bert(30522, 32) },
            Student = new ModelSpec { Model = "bert", Config = Bert(30522, 16) },
            Data = new DataSpec
            {
                Dataset = "sst2", Path = sst2, Tokenizer = Path.Combine(TestPaths.Data, "bert-base-uncased-tokenizer"), MaxLength = 24,
                TrainSplit = "train", EvalSplit = "dev", TrainLimit = 64, EvalLimit = 32, EvalBatchSize = 32,
            },
            Distill = new DistillSpec { Terms = [new SoftTargetSpec()] },
            Train = new TrainSpec { Steps = 3, BatchSize = 16, Lr = 1e-3, Seed = 5, HistogramEvery = null, CheckpointEvery = 1000 },
            Output = new OutputSpec { Tensorboard = false },
            Stages =
            [
                new TrainTeacherStageSpec(), new DistillStageSpec(),
                new PruneStageSpec { Method = PruneMethod.NM, Pattern = new NmPattern(2, 4), Include = [.. encoder, "*word_embeddings"], FineTune = qat },
                new QuantizeStageSpec
                {
                    Method = qat ? QuantizeMethod.Qat : QuantizeMethod.Ptq, Bits = 4, CompactScales = true, Include = [.. encoder, "*word_embeddings"],
                    ActivationBits = qat ? null : 8, CalibrationBatches = 2,
                },
                new ExportStageSpec(),
            ],
        };
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var summary = new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute();
            var export = summary.Stages.OfType<ExportResult>().Single();
            string artifact = Path.Combine(dir, "artifacts", "export", "model.dcmp");
            Assert.Equal(new FileInfo(artifact).Length, (long)export.ArtifactBytes);
            Assert.Equal(export.PredictedBytes, export.ArtifactBytes);

            // The quantize stage's model, its grids, and the model read back from the artifact.
            string quantized = Path.Combine(dir, "models", "quantize");
            using var inMemory = ModelCheckpoint.Load(quantized, ModelRegistry.Default);
            var grid = QuantizationRecord.Load(quantized).Weights["bert.embeddings.word_embeddings.weight"];
            using var loaded = ModelArtifact.Load(artifact, ModelRegistry.Default);
            var a = inMemory.state_dict();
            var b = loaded.state_dict();
            Assert.Equal(a.Keys.Order(), b.Keys.Order());
            foreach (var (k, v) in a) Assert.True(v.shape.SequenceEqual(b[k].shape) && v.eq(b[k]).all().item<bool>(), $"{k} differs after the round trip");

            // The table is 2:4 sparse, and every row lies on its own 4-bit symmetric grid with a compact scale.
            var table = b["bert.embeddings.word_embeddings.weight"];
            Assert.True(NmPruning.Satisfies(table, new NmPattern(2, 4)));
            Assert.Equal(30522, grid.Scales.Length);
            using var scales = torch.tensor(grid.Scales).unsqueeze(1);
            using var steps = table / scales;
            Assert.True(steps.sub(steps.round()).abs().max().item<float>() < 1e-4, "a table entry is off its grid");
            Assert.True(steps.abs().max().item<float>() <= 7.0001);
            Assert.All(grid.Scales, s => Assert.True(Math.Abs(Math.Log2(s) * 16 - Math.Round(Math.Log2(s) * 16)) < 1e-4, $"scale {s} is not a power of 2^(1/16)"));

            var layers = export.Layers;
            string encoding = (string)layers["bert.embeddings.word_embeddings.weight"].Encoding;
            Assert.Contains("linear 4b", encoding);
            Assert.Contains("scale exponents", encoding); // the compact scales are stored as exponents of 2^(1/16)
            if (!qat) Assert.Equal(8, (int)export.ActivationBits);
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }
}
