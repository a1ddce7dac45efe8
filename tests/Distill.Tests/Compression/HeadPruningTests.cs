using System.Text.Json.Nodes;
using Distill.Compression.Pruning;
using Distill.Models.Pruning;
using Distill.Design;
using Distill.Models.Design;
using Distill.Hf;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Init;
using Distill.Models.Vit;
using Distill.Tests.Checkpoints;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

/// <summary>
/// Structured pruning of attention heads (HF <c>pruned_heads</c>) for bert and vit: shapes and parameter counts, the
/// config's original-index bookkeeping over two rounds, equivalence with the unpruned model whose removed heads are
/// silenced (their attention-output columns zeroed, done here by hand), the scores, and the HF folder round trip.
/// The Taylor finite-difference check and the scaled-head check assume the seeded initialisation: every draw comes from
/// the test's own generator.
/// </summary>
public sealed class HeadPruningTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private const int Hidden = 16, Heads = 4, HeadDim = 4;

    /// <summary>Weights large enough that every head visibly changes the outputs (at HF's 0.02 a head moves the logits
    /// by ~1e-5, too little for an equivalence test to tell heads apart).</summary>
    private const double InitRange = 0.4;

    private static BertConfig Bert(int layers = 2) => new()
    {
        VocabSize = 50, HiddenSize = Hidden, NumHiddenLayers = layers, NumAttentionHeads = Heads, IntermediateSize = 24,
        MaxPositionEmbeddings = 16, NumLabels = 3, HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0, InitializerRange = InitRange,
    };

    private static ViTConfig Vit(bool qkvBias = true) => new()
    {
        HiddenSize = Hidden, NumHiddenLayers = 2, NumAttentionHeads = Heads, IntermediateSize = 20, ImageSize = 8, PatchSize = 4,
        NumChannels = 3, NumLabels = 3, QkvBias = qkvBias, InitializerRange = InitRange,
    };

    private static Batch BertBatch(Generator g) => new(new Dictionary<string, Tensor>
    {
        ["input_ids"] = torch.randint(0, 50, [3, 7], generator: g),
        ["attention_mask"] = torch.tensor(new long[,] { { 1, 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 1, 0, 0, 0 }, { 1, 1, 1, 1, 1, 1, 0 } }),
        ["token_type_ids"] = torch.zeros(3, 7, ScalarType.Int64),
    }, torch.tensor(new long[] { 0, 2, 1 }));

    private static Batch VitBatch(Generator g) =>
        new(new Dictionary<string, Tensor> { ["pixel_values"] = torch.randn(2, 3, 8, 8, generator: g) }, torch.tensor(new long[] { 1, 2 }));

    /// <summary>Silences heads of the unpruned model by hand: zeroes their columns h·d..(h+1)·d of the layer's
    /// attention output projection, the only path from a head's context into the residual stream.</summary>
    private static void SilenceHeads(DistillModel model, string prefix, IReadOnlyDictionary<int, int[]> heads, int headDim = HeadDim)
    {
        var sd = model.state_dict();
        using var _ = torch.no_grad();
        foreach (var (layer, list) in heads)
        {
            var w = sd[$"{prefix}.encoder.layer.{layer}.attention.output.dense.weight"];
            foreach (int h in list) w.narrow(1, h * headDim, headDim).zero_();
        }
    }

    /// <summary>Logits and every hidden state of <paramref name="actual"/> equal <paramref name="expected"/>'s within 1e-5.</summary>
    private static void AssertSameOutputs(DistillModel expected, DistillModel actual, Batch batch)
    {
        expected.eval();
        actual.eval();
        using var _ = torch.no_grad();
        var e = expected.call(batch);
        var a = actual.call(batch);
        Assert.True(torch.allclose(a.Logits, e.Logits, rtol: 0, atol: 1e-5), $"logits: max |Δ| = {(a.Logits - e.Logits).abs().max().item<float>()}");
        Assert.Equal(e.HiddenStates.Count, a.HiddenStates.Count);
        Assert.NotEmpty(e.HiddenStates);
        for (int i = 0; i < e.HiddenStates.Count; i++)
            Assert.True(torch.allclose(a.HiddenStates[i], e.HiddenStates[i], rtol: 0, atol: 1e-5),
                $"hidden state {i}: max |Δ| = {(a.HiddenStates[i] - e.HiddenStates[i]).abs().max().item<float>()}");
    }

    /// <summary>Random biases (fresh models have zero biases, which would hide a wrongly sliced bias).</summary>
    private static T WithRandomBiases<T>(Generator g, Func<T> build) where T : DistillModel
    {
        var model = ParamInit.Build(g, build);
        using var _ = torch.no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (name.EndsWith(".bias", StringComparison.Ordinal)) p.copy_(torch.randn(p.shape, generator: g) * 0.2);
        return model;
    }

    private static UnitGroup HeadGroup(DistillModel model, int layer) =>
        StructuredPruning.Groups(model, [PruneUnit.Heads]).Groups.Single(g => g.Layer == layer);

    /// <summary>Parameters one head owns: head_dim rows (weight + bias) of query, key and value, head_dim columns of the output projection.</summary>
    private static long ParamsPerHead(bool qkvBias = true) => 3 * (HeadDim * Hidden + (qkvBias ? HeadDim : 0)) + Hidden * HeadDim;

    private static DistillModel Clone(DistillModel model)
    {
        var copy = ModelRegistry.Default.Get(model.Family).Build(model.Config);
        using var _ = torch.no_grad();
        var dst = copy.state_dict();
        foreach (var (k, v) in model.state_dict()) dst[k].copy_(v);
        return copy;
    }

    [Fact]
    public void Bert_RemovingHeads_ShrinksShapes_RecordsOriginalIndices_AndEqualsTheSilencedModel()
    {
        var g = ParamInit.Seeded(40);
        using var model = WithRandomBiases(g, () => new BertForSequenceClassification(Bert()));
        var batch = BertBatch(g);
        var groups = StructuredPruning.Groups(model, [PruneUnit.Heads]).Groups;
        Assert.Equal(["bert.encoder.layer.0.attention.self", "bert.encoder.layer.1.attention.self"], groups.Select(g => g.Module));
        Assert.All(groups, g => Assert.Equal(Heads, g.Count));

        // Round 1: layer 0 loses heads 1 and 3, layer 1 loses head 3.
        var keep = new Dictionary<string, int[]> { [groups[0].Module] = [0, 2], [groups[1].Module] = [0, 1, 2] };
        using var once = StructuredPruning.Shrink(model, groups, keep, ModelRegistry.Default);
        var c1 = (BertConfig)once.Config;
        Assert.Equal(new Dictionary<string, List<int>> { ["0"] = [1, 3], ["1"] = [3] }, c1.PrunedHeads);
        Assert.Equal(Heads, c1.NumAttentionHeads);
        Assert.Equal(Hidden, c1.HiddenSize);
        var sd = once.state_dict();
        foreach (var p in new[] { "query", "key", "value" })
        {
            Assert.Equal([2L * HeadDim, Hidden], sd[$"bert.encoder.layer.0.attention.self.{p}.weight"].shape);
            Assert.Equal([2L * HeadDim], sd[$"bert.encoder.layer.0.attention.self.{p}.bias"].shape);
            Assert.Equal([3L * HeadDim, Hidden], sd[$"bert.encoder.layer.1.attention.self.{p}.weight"].shape);
        }
        Assert.Equal([(long)Hidden, 2L * HeadDim], sd["bert.encoder.layer.0.attention.output.dense.weight"].shape);
        Assert.Equal([(long)Hidden, 3L * HeadDim], sd["bert.encoder.layer.1.attention.output.dense.weight"].shape);
        Assert.Equal([(long)Hidden], sd["bert.encoder.layer.0.attention.output.dense.bias"].shape);
        Assert.Equal(model.ParameterCount() - 3 * ParamsPerHead(), once.ParameterCount());

        // Round 2 on the pruned model: layer 0's current head 1 is original head 2; layer 1's current head 0 is original 0.
        var groups2 = StructuredPruning.Groups(once, [PruneUnit.Heads]).Groups;
        Assert.Equal([2, 3], groups2.Select(g => g.Count));
        var keep2 = new Dictionary<string, int[]> { [groups2[0].Module] = [0], [groups2[1].Module] = [1, 2] };
        using var twice = StructuredPruning.Shrink(once, groups2, keep2, ModelRegistry.Default);
        Assert.Equal(new Dictionary<string, List<int>> { ["0"] = [1, 2, 3], ["1"] = [0, 3] }, ((BertConfig)twice.Config).PrunedHeads);
        Assert.Equal(model.ParameterCount() - 5 * ParamsPerHead(), twice.ParameterCount());
        Assert.Equal([1L * HeadDim, Hidden], twice.state_dict()["bert.encoder.layer.0.attention.self.query.weight"].shape);

        // Attention maps have each layer's own head count.
        twice.OutputAttentions = true;
        twice.eval();
        using (torch.no_grad())
        {
            var attentions = twice.call(batch).Attentions;
            Assert.Equal([3L, 1, 7, 7], attentions[0].shape);
            Assert.Equal([3L, 2, 7, 7], attentions[1].shape);
        }

        // Equivalence: the original model with the same ORIGINAL heads silenced.
        using var silenced1 = Clone(model);
        SilenceHeads(silenced1, "bert", new Dictionary<int, int[]> { [0] = [1, 3], [1] = [3] });
        AssertSameOutputs(silenced1, once, batch);
        using var silenced2 = Clone(model);
        SilenceHeads(silenced2, "bert", new Dictionary<int, int[]> { [0] = [1, 2, 3], [1] = [0, 3] });
        AssertSameOutputs(silenced2, twice, batch);
        // And the silencing matters: the unpruned model gives other logits.
        model.eval();
        using (torch.no_grad())
            Assert.False(torch.allclose(model.call(batch).Logits, twice.call(batch).Logits, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Bert_HeadsAndFfnTogether_ViaScores()
    {
        var g = ParamInit.Seeded(41);
        using var model = WithRandomBiases(g, () => new BertForSequenceClassification(Bert()));
        var (groups, _) = StructuredPruning.Groups(model, [PruneUnit.Heads, PruneUnit.Ffn]);
        Assert.Equal(4, groups.Count);
        var keep = groups.ToDictionary(g => g.Module, g => StructuredPruning.Keep(StructuredPruning.MagnitudeScores(model, g), 0.5));
        using var smaller = StructuredPruning.Shrink(model, groups, keep, ModelRegistry.Default);
        var c = (BertConfig)smaller.Config;
        Assert.Equal(12, c.IntermediateSize);
        Assert.Equal([2, 2], c.PrunedHeads!.Values.Select(v => v.Count));
        // The masked original (FFN consumer columns and head output columns zeroed) is what the smaller model computes.
        StructuredPruning.MaskConsumers(model, groups, keep);
        AssertSameOutputs(model, smaller, BertBatch(g));
    }

    [Fact]
    public void MagnitudeScore_PicksTheHeadMadeSmallest_AndTaylorIsTheSquaredHeadGateDerivative()
    {
        var g = ParamInit.Seeded(42);
        using var model = WithRandomBiases(g, () => new BertForSequenceClassification(Bert()));
        var sd = model.state_dict();
        using (torch.no_grad())
        {
            // Head 2 of layer 0 gets 10× smaller weights everywhere it has them.
            foreach (var p in new[] { "query", "key", "value" })
                sd[$"bert.encoder.layer.0.attention.self.{p}.weight"].narrow(0, 2 * HeadDim, HeadDim).mul_(0.1);
            sd["bert.encoder.layer.0.attention.output.dense.weight"].narrow(1, 2 * HeadDim, HeadDim).mul_(0.1);
        }
        var scores = StructuredPruning.MagnitudeScores(model, HeadGroup(model, 0));
        Assert.Equal(Heads, scores.Length);
        Assert.Equal(2, Array.IndexOf(scores, scores.Min()));
        Assert.Equal([0, 1, 3], StructuredPruning.Keep(scores, 0.25));
        // Independently: the L2 norm of head 0's q/k/v rows and output columns.
        using (torch.no_grad())
        {
            double sq = 0;
            foreach (var p in new[] { "query", "key", "value" })
                sq += sd[$"bert.encoder.layer.0.attention.self.{p}.weight"].narrow(0, 0, HeadDim).to(ScalarType.Float64).pow(2).sum().item<double>();
            sq += sd["bert.encoder.layer.0.attention.output.dense.weight"].narrow(1, 0, HeadDim).to(ScalarType.Float64).pow(2).sum().item<double>();
            Assert.Equal(Math.Sqrt(sq), scores[0], 1e-9);
        }

        var batch = BertBatch(g);
        Func<DistillModel, Batch, Tensor> loss = (m, b) => nn.functional.cross_entropy(m.call(b).Logits, b.RequireLabels());
        var groups = StructuredPruning.Groups(model, [PruneUnit.Heads]).Groups;
        var taylor = StructuredPruning.TaylorScores(model, groups, 1, _ => batch, loss)["bert.encoder.layer.1.attention.self"];
        Assert.Equal(Heads, taylor.Length);
        // (dL/dα)² for a gate α on head h of layer 1 (its output-projection columns scaled by α), by central differences.
        var w = sd["bert.encoder.layer.1.attention.output.dense.weight"];
        for (int h = 0; h < Heads; h++)
        {
            double L(double alpha)
            {
                using var _ = torch.no_grad();
                var saved = w.clone();
                w.narrow(1, h * HeadDim, HeadDim).mul_(alpha);
                double value = loss(model, batch).item<float>();
                w.copy_(saved);
                return value;
            }
            double eps = 1e-2, d = (L(1 + eps) - L(1 - eps)) / (2 * eps);
            Assert.True(Math.Abs(taylor[h] - d * d) <= 0.02 * Math.Max(d * d, 1e-6) + 1e-7, $"head {h}: taylor {taylor[h]}, (dL/dα)² = {d * d}");
        }
    }

    [Fact]
    public void Bert_ExportedHfFolder_HasPrunedHeads_AndLoadsBackIdentical()
    {
        var g = ParamInit.Seeded(43);
        using var model = WithRandomBiases(g, () => new BertForSequenceClassification(Bert()));
        var groups = StructuredPruning.Groups(model, [PruneUnit.Heads]).Groups;
        using var pruned = StructuredPruning.Shrink(model, groups,
            new Dictionary<string, int[]> { [groups[0].Module] = [0, 2], [groups[1].Module] = [1, 2, 3] }, ModelRegistry.Default);
        string folder = _tmp.File("bert-pruned");
        HfExporter.Export(pruned, HfConfigJson.Write(pruned.Config, HfFamilies.Bert), folder);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!.AsObject();
        Assert.Equal("""{"0":[1,3],"1":[0]}""", json["pruned_heads"]!.ToJsonString());
        AssertLoadsBackIdentical(folder, pruned, BertBatch(g));
    }

    private static void AssertLoadsBackIdentical(string folder, DistillModel pruned, Batch batch)
    {
        var info = HfPretrained.Inspect(folder);
        using var loaded = ModelRegistry.Default.Get(info.Family.Family).Build(info.Config);
        var report = HfPretrained.LoadInto(loaded, folder);
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal(pruned.ParameterCount(), loaded.ParameterCount());
        pruned.eval();
        loaded.eval();
        using var _ = torch.no_grad();
        Assert.True(torch.equal(pruned.call(batch).Logits, loaded.call(batch).Logits).all().item<bool>());
    }

    [Fact]
    public void Vit_RemovingHeads_ShapesEquivalenceAndHfRoundTrip()
    {
        var g = ParamInit.Seeded(44);
        using var model = WithRandomBiases(g, () => new ViTForImageClassification(Vit()));
        var groups = StructuredPruning.Groups(model, [PruneUnit.Heads]).Groups;
        Assert.Equal(["vit.encoder.layer.0.attention.attention", "vit.encoder.layer.1.attention.attention"], groups.Select(g => g.Module));
        var keep = new Dictionary<string, int[]> { [groups[0].Module] = [3], [groups[1].Module] = [0, 1] };
        using var pruned = StructuredPruning.Shrink(model, groups, keep, ModelRegistry.Default);
        Assert.Equal(new Dictionary<string, List<int>> { ["0"] = [0, 1, 2], ["1"] = [2, 3] }, ((ViTConfig)pruned.Config).PrunedHeads);
        var sd = pruned.state_dict();
        Assert.Equal([1L * HeadDim, Hidden], sd["vit.encoder.layer.0.attention.attention.value.weight"].shape);
        Assert.Equal([1L * HeadDim], sd["vit.encoder.layer.0.attention.attention.key.bias"].shape);
        Assert.Equal([(long)Hidden, 2L * HeadDim], sd["vit.encoder.layer.1.attention.output.dense.weight"].shape);
        Assert.Equal(model.ParameterCount() - 5 * ParamsPerHead(), pruned.ParameterCount());

        var batch = VitBatch(g);
        using var silenced = Clone(model);
        SilenceHeads(silenced, "vit", new Dictionary<int, int[]> { [0] = [0, 1, 2], [1] = [2, 3] });
        AssertSameOutputs(silenced, pruned, batch);

        string folder = _tmp.File("vit-pruned");
        HfExporter.Export(pruned, HfConfigJson.Write(pruned.Config, HfFamilies.ViT), folder);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!.AsObject();
        Assert.Equal("""{"0":[0,1,2],"1":[2,3]}""", json["pruned_heads"]!.ToJsonString());
        AssertLoadsBackIdentical(folder, pruned, batch);
    }

    [Fact]
    public void Vit_WithoutQkvBias_HeadsOwnOnlyWeights()
    {
        var g = ParamInit.Seeded(45);
        using var model = WithRandomBiases(g, () => new ViTForImageClassification(Vit(qkvBias: false)));
        var group = HeadGroup(model, 0);
        Assert.Equal(3, group.Producers.Count);
        using var pruned = StructuredPruning.Shrink(model, [group], new Dictionary<string, int[]> { [group.Module] = [0, 1, 3] }, ModelRegistry.Default);
        Assert.Equal(model.ParameterCount() - ParamsPerHead(qkvBias: false), pruned.ParameterCount());
        using var silenced = Clone(model);
        SilenceHeads(silenced, "vit", new Dictionary<int, int[]> { [0] = [2] });
        AssertSameOutputs(silenced, pruned, VitBatch(g));
    }

    [Fact]
    public void HfTinyBert_PrunedByMagnitude_EqualsItsSilencedSelf_AndRoundTripsThroughAnHfFolder()
    {
        string source = Hf.HfTestData.Folder(Hf.HfTestData.BertCls);
        var info = HfPretrained.Inspect(source);
        using var model = ModelRegistry.Default.Get(info.Family.Family).Build(info.Config);
        Assert.True(HfPretrained.LoadInto(model, source).IsExact);
        var hf = (BertConfig)model.Config;
        var groups = StructuredPruning.Groups(model, [PruneUnit.Heads]).Groups;
        var keep = groups.ToDictionary(g => g.Module, g => StructuredPruning.Keep(StructuredPruning.MagnitudeScores(model, g), 0.5));
        using var pruned = StructuredPruning.Shrink(model, groups, keep, ModelRegistry.Default);
        var map = ((BertConfig)pruned.Config).PrunedHeads!;
        Assert.Equal(hf.NumHiddenLayers, map.Count);
        Assert.All(map.Values, heads => Assert.Equal(hf.NumAttentionHeads / 2, heads.Count));

        var g = ParamInit.Seeded(47);
        var batch = new Batch(new Dictionary<string, Tensor>
        {
            ["input_ids"] = torch.randint(0, hf.VocabSize, [2, 9], generator: g),
            ["attention_mask"] = torch.tensor(new long[,] { { 1, 1, 1, 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 1, 1, 0, 0, 0, 0 } }),
            ["token_type_ids"] = torch.zeros(2, 9, ScalarType.Int64),
        }, null);
        using var silenced = Clone(model);
        SilenceHeads(silenced, "bert", map.ToDictionary(kv => int.Parse(kv.Key, System.Globalization.CultureInfo.InvariantCulture), kv => kv.Value.ToArray()), hf.HeadDim);
        AssertSameOutputs(silenced, pruned, batch);

        string folder = _tmp.File("hf-bert-pruned");
        HfExporter.Export(pruned, HfConfigJson.Write(pruned.Config, HfFamilies.Bert), folder);
        AssertLoadsBackIdentical(folder, pruned, batch);
    }

    [Fact]
    public void Wav2Vec2ConfigJson_WithPrunedHeads_IsRefused()
    {
        string source = Path.Combine(Hf.HfTestData.Folder(Hf.HfTestData.W2vLayerBase), "config.json");
        var json = JsonNode.Parse(File.ReadAllText(source))!.AsObject();
        json["pruned_heads"] = JsonNode.Parse("""{"0": [1]}""");
        string file = _tmp.File("w2v-config.json");
        File.WriteAllText(file, json.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => Models.Wav2Vec2.Wav2Vec2Config.FromJsonFile(file));
        Assert.Contains("pruned_heads", e.Message);
        Assert.Contains(file, e.Message);
        json["pruned_heads"] = new JsonObject(); // HF's default {} is harmless
        File.WriteAllText(file, json.ToJsonString());
        Models.Wav2Vec2.Wav2Vec2Config.FromJsonFile(file);
    }

    [Fact]
    public void UnprunedModels_WriteNoPrunedHeads()
    {
        using var model = WithRandomBiases(ParamInit.Seeded(0), () => new BertForSequenceClassification(Bert()));
        var json = JsonNode.Parse(HfConfigJson.Write(model.Config, HfFamilies.Bert))!.AsObject();
        Assert.False(json.ContainsKey("pruned_heads"));
    }

    [Theory]
    [InlineData("bert", """{"5": [0]}""", "layer 5 does not exist")]
    [InlineData("bert", """{"0": [4]}""", "head 4 does not exist")]
    [InlineData("bert", """{"0": [-1]}""", "head -1 does not exist")]
    [InlineData("bert", """{"1": [0, 1, 2, 3]}""", "all 4 heads are pruned")]
    [InlineData("bert", """{"0": [2, 2]}""", "head 2 is listed twice")]
    [InlineData("bert", """{"x": [0]}""", "key \"x\" is not a layer index")]
    [InlineData("vit", """{"2": [1]}""", "layer 2 does not exist")]
    [InlineData("vit", """{"0": [0, 1, 2, 3]}""", "all 4 heads are pruned")]
    public void InvalidPrunedHeads_InConfigJson_NameTheFileAndTheKey(string family, string pruned, string fragment)
    {
        string dir = _tmp.File($"bad-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, "config.json");
        File.WriteAllText(file, $$"""
            {"model_type": "{{family}}", "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 20,
             "vocab_size": 50, "image_size": 8, "patch_size": 4, "pruned_heads": {{pruned}} }
            """);
        var e = Assert.Throws<InvalidDataException>(() => family == "bert" ? (IModelConfig)BertConfig.Load(file) : ViTConfig.Load(file));
        Assert.Contains(file, e.Message);
        Assert.Contains("pruned_heads", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void PrunedHeads_CanBeWrittenInAConfig_AndBuildTheSmallerModel()
    {
        var config = Bert() with { PrunedHeads = new() { ["1"] = [0, 2] } };
        Assert.Empty(config.Validate());
        Assert.Equal(4, config.HeadsInLayer(0));
        Assert.Equal(2, config.HeadsInLayer(1));
        using var model = new BertForSequenceClassification(config);
        using var full = new BertForSequenceClassification(Bert());
        Assert.Equal(full.ParameterCount() - 2 * ParamsPerHead(), model.ParameterCount());
    }

    [Fact]
    public void InitFromAHeadPrunedTeacher_InheritsItsPrunedHeads_OrRefusesTooManyHeads()
    {
        var g = ParamInit.Seeded(46);
        var teacherConfig = Bert(layers: 4) with { PrunedHeads = new() { ["1"] = [0, 2], ["3"] = [1] } };
        using var teacher = ParamInit.Build(g, () => new BertForSequenceClassification(teacherConfig));
        var rules = StudentInitRegistry.Default.Get("bert");

        // Every other layer (1, 3), same sizes: the student inherits those layers' pruned heads and is an exact copy.
        var spec = new InitFromTeacherSpec { Layers = LayerSelection.List([1, 3]) };
        var student = (BertConfig)rules.DeriveConfig(teacherConfig, spec);
        Assert.Equal(new Dictionary<string, List<int>> { ["0"] = [0, 2], ["1"] = [1] }, student.PrunedHeads);
        using var s = ParamInit.Build(g, () => new BertForSequenceClassification(student));
        var report = Distill.Models.Init.TeacherInit.Apply(s, teacher, [1, 3], rules);
        Assert.Empty(report.Truncated);

        // Narrower heads: at most as many heads as the most pruned selected layer keeps (layer 1 keeps 2).
        var tooMany = new InitFromTeacherSpec { Layers = LayerSelection.List([1, 3]), NumAttentionHeads = 4, HiddenSize = 8 };
        var problem = Assert.Single(rules.Validate(teacherConfig, tooMany), p => p.Key == "num_attention_heads");
        Assert.Contains("layer 1 keeps only 2 of its 4 heads", problem.Message);

        // Two heads of width 4 from layer 1's remaining heads (original 1 and 3).
        var narrow = new InitFromTeacherSpec { Layers = LayerSelection.List([1, 3]), NumAttentionHeads = 2, HiddenSize = 8 };
        var narrowConfig = (BertConfig)rules.DeriveConfig(teacherConfig, narrow);
        Assert.Null(narrowConfig.PrunedHeads);
        using var n = ParamInit.Build(g, () => new BertForSequenceClassification(narrowConfig));
        Distill.Models.Init.TeacherInit.Apply(n, teacher, [1, 3], rules);
        // Student layer 0, head 1, feature 0 = teacher layer 1's second remaining head (original 3, current 1), feature 0.
        var tq = teacher.state_dict()["bert.encoder.layer.1.attention.self.query.weight"];
        var sq = n.state_dict()["bert.encoder.layer.0.attention.self.query.weight"];
        Assert.True(torch.equal(sq[4].narrow(0, 0, 8), tq[1 * HeadDim].narrow(0, 0, 8)).all().item<bool>());
    }

    [Fact]
    public void DesignFeatures_CountEachLayersAttentionWidth()
    {
        var family = DesignFamilies.Get("bert");
        var shape = new DeploymentShape(1, 1, "cpu") { SequenceLength = 8 };
        var full = Bert();
        var pruned = full with { PrunedHeads = new() { ["0"] = [1, 3] } };
        var f = family.Features(full, shape);
        var p = family.Features(pruned, shape);
        int names = family.FeatureNames.ToList().IndexOf("linear_macs");
        // Two heads of 4 features fewer in layer 0: Q, K, V and output lose 4·T·H·(2·4) MACs.
        Assert.Equal(f[names] - 4.0 * 8 * Hidden * (2 * HeadDim), p[names], 6);
        Assert.EndsWith("(-2 heads)", family.Label(pruned));
    }
}
