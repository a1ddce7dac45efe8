using System.Text.Json.Nodes;
using Distill.Checkpoints;
using Distill.Models;
using Distill.Models.Bert;
using TorchSharp;
using Xunit;
using static Distill.Tests.Bert.BertTestHelpers;
using static TorchSharp.torch;

namespace Distill.Tests.Bert;

public class BertConfigAndGuardTests
{
    private static BertConfig Tiny(int numLabels = 2) => new()
    {
        VocabSize = 50, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 12,
        MaxPositionEmbeddings = 16, NumLabels = numLabels,
    };

    [Fact]
    public void LoadsHfConfigJsonIgnoringExtraKeys()
    {
        var c = BertConfig.Load(Folder(StudentFolder));
        Assert.Equal((30522, 16, 1, 2, 24), (c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize));
        Assert.Equal(("gelu", 512, 2, 0), (c.HiddenAct, c.MaxPositionEmbeddings, c.TypeVocabSize, c.PadTokenId!.Value));
        Assert.Equal(1e-12, c.LayerNormEps);
        Assert.Equal(0.1, c.InitializerRange);
        Assert.Equal(2, c.ResolvedNumLabels); // from id2label: HF writes no num_labels
        Assert.Equal("positive", c.Id2Label!["1"]);
        Assert.Null(c.ClassifierDropout);
        Assert.Equal(0.1, c.ResolvedClassifierDropout);
        Assert.Empty(c.Validate());
    }

    [Theory]
    [InlineData("hidden_act", "\"gelu_fast\"", "hidden_act")]
    [InlineData("position_embedding_type", "\"relative_key\"", "position_embedding_type")]
    [InlineData("is_decoder", "true", "is_decoder")]
    [InlineData("add_cross_attention", "true", "add_cross_attention")]
    [InlineData("num_attention_heads", "5", "num_attention_heads")]
    [InlineData("problem_type", "\"ranking\"", "problem_type")]
    [InlineData("model_type", "\"vit\"", "model_type")]
    [InlineData("num_labels", "3", "id2label")]
    [InlineData("hidden_size", "\"big\"", "$.hidden_size")]
    [InlineData("pad_token_id", "40000", "pad_token_id")]
    public void BadConfigJsonNamesFileAndKey(string key, string json, string expectedInMessage)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder(ClassifierFolder), "config.json")))!.AsObject();
        node[key] = JsonNode.Parse(json);
        string file = Path.Combine(Path.GetTempPath(), $"bert-config-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, node.ToJsonString());
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => BertConfig.Load(file));
            Assert.Contains(file, e.Message);
            Assert.Contains(expectedInMessage, e.Message);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void InvalidConfigIsRefusedByTheConstructors()
    {
        var bad = Tiny() with { HiddenAct = "mish" };
        Assert.Contains("hidden_act", Assert.Throws<ArgumentException>(() => new BertForSequenceClassification(bad)).Message);
        Assert.Contains("num_attention_heads", Assert.Throws<ArgumentException>(() => new BertModel(Tiny() with { NumAttentionHeads = 3 })).Message);
    }

    [Fact]
    public void SaveWritesAnHfConfigThatLoadsBack()
    {
        var original = BertConfig.Load(Folder(ClassifierFolder));
        string file = Path.Combine(Path.GetTempPath(), $"bert-config-{Guid.NewGuid():N}.json");
        try
        {
            original.Save(file);
            var json = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            Assert.Equal("bert", (string?)json["model_type"]);
            Assert.Equal(1, (int?)json["label2id"]!["positive"]);
            var back = BertConfig.Load(file);
            Assert.Equal(original with { Id2Label = null, ModelType = null }, back with { Id2Label = null, ModelType = null });
            Assert.Equal(original.Id2Label, back.Id2Label);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void RegistryBuildsBertWhoseParameterNamesAreHfs()
    {
        var family = ModelRegistry.Default.Get("bert");
        Assert.Equal(typeof(BertConfig), family.ConfigType);
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], family.Inputs);
        using var model = family.Build(BertConfig.Load(Folder(StudentFolder)));
        Assert.Equal("bert", model.Family);
        Assert.Equal((1, 2), (model.NumHiddenLayers, model.NumLabels));
        var hfNames = SafeTensors.ReadHeader(Path.Combine(Folder(StudentFolder), "model.safetensors")).Tensors.Select(t => t.Name);
        Assert.Equal(hfNames.Order(), model.state_dict().Keys.Order());
    }

    [Fact]
    public void FreshWeightsFollowHfInitialisation()
    {
        using var scope = torch.NewDisposeScope();
        var config = Tiny() with { VocabSize = 2000, HiddenSize = 64, NumAttentionHeads = 4, InitializerRange = 0.05, PadTokenId = 3 };
        var model = new BertForSequenceClassification(config);
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        var word = p["bert.embeddings.word_embeddings.weight"];
        Assert.Equal(0.0, word[3].abs().sum().item<float>());
        Assert.InRange(word.std().item<float>(), 0.045, 0.055);
        Assert.InRange(p["bert.encoder.layer.0.intermediate.dense.weight"].std().item<float>(), 0.045, 0.055);
        Assert.InRange(p["classifier.weight"].std().item<float>(), 0.02, 0.08);
        Assert.Equal(0.0, p["bert.encoder.layer.0.attention.self.query.bias"].abs().sum().item<float>());
        Assert.True(p["bert.embeddings.LayerNorm.weight"].eq(1).all().item<bool>());
        Assert.Equal(0.0, p["classifier.bias"].abs().sum().item<float>());
    }

    [Fact]
    public void PaddingRowGetsNoGradient()
    {
        using var scope = torch.NewDisposeScope();
        var model = new BertForSequenceClassification(Tiny());
        var ids = torch.tensor(new long[] { 5, 6, 0, 0 }, [1, 4]);
        var output = model.call(new Batch(new Dictionary<string, Tensor> { ["input_ids"] = ids }, torch.tensor(new long[] { 1 })));
        output.Loss!.backward();
        var grad = model.named_parameters().First(x => x.name == "bert.embeddings.word_embeddings.weight").parameter.grad!;
        Assert.Equal(0.0, grad[0].abs().sum().item<float>());
        Assert.True(grad[5].abs().sum().item<float>() > 0);
    }

    [Fact]
    public void BadInputsAreArgumentExceptionsNotAborts()
    {
        using var scope = torch.NewDisposeScope();
        var model = new BertModel(Tiny());
        Batch B(Tensor ids, Tensor? mask = null, Tensor? types = null)
        {
            var d = new Dictionary<string, Tensor> { ["input_ids"] = ids };
            if (mask is not null) d["attention_mask"] = mask;
            if (types is not null) d["token_type_ids"] = types;
            return new Batch(d, null);
        }
        var ok = torch.ones(2, 5, dtype: ScalarType.Int64);
        Assert.Contains("(batch, sequence)", Assert.Throws<ArgumentException>(() => model.call(B(torch.ones(2, 5, 1, dtype: ScalarType.Int64)))).Message);
        Assert.Contains("max_position_embeddings", Assert.Throws<ArgumentException>(() => model.call(B(torch.ones(1, 17, dtype: ScalarType.Int64)))).Message);
        Assert.Contains("attention_mask", Assert.Throws<ArgumentException>(() => model.call(B(ok, torch.ones(2, 4)))).Message);
        Assert.Contains("token_type_ids", Assert.Throws<ArgumentException>(() => model.call(B(ok, null, torch.ones(5, 2, dtype: ScalarType.Int64)))).Message);
        Assert.Contains("type_vocab_size", Assert.Throws<ArgumentException>(() => model.call(B(ok, null, torch.full(2, 5, 2L)))).Message);
        Assert.Contains("vocab_size", Assert.Throws<ArgumentException>(() => model.call(B(torch.full(2, 5, 50L)))).Message);
        Assert.Contains("integer", Assert.Throws<ArgumentException>(() => model.call(B(torch.ones(2, 5)))).Message);
        Assert.Equal(new long[] { 2, 5, 8 }, model.call(B(ok.to(ScalarType.Int32), torch.ones(2, 5, dtype: ScalarType.Bool))).LastHiddenState.shape);

        var classifier = new BertForSequenceClassification(Tiny(3));
        var labelsOut = Assert.Throws<ArgumentException>(() => classifier.call(new Batch(new Dictionary<string, Tensor> { ["input_ids"] = ok }, torch.tensor(new long[] { 0, 3 }))));
        Assert.Contains("num_labels 3", labelsOut.Message);
        Assert.Contains("2 class ids", Assert.Throws<ArgumentException>(() => classifier.call(new Batch(new Dictionary<string, Tensor> { ["input_ids"] = ok }, torch.tensor(new long[] { 0, 1, 2 })))).Message);
    }

    [Fact]
    public void NoPoolingLayerMeansNoPoolerKeysAndNoPoolerOutput()
    {
        using var scope = torch.NewDisposeScope();
        var model = new BertModel(BertConfig.Load(Folder(BaseFolder)), addPoolingLayer: false);
        LoadStrict(model, SafeTensors.Load(Path.Combine(Folder(BaseFolder), "model.safetensors")), drop: ["pooler."]);
        model.eval();
        var reference = Reference(BaseFolder);
        using var noGrad = torch.no_grad();
        var output = model.call(MakeBatch(reference));
        Assert.Null(output.PoolerOutput);
        Assert.DoesNotContain(output.NamedTensors(), kv => kv.Key == "pooler_output");
        Assert.True((output.LastHiddenState - reference["last_hidden_state"]).abs().max().item<float>() < 1e-5);
    }
}
