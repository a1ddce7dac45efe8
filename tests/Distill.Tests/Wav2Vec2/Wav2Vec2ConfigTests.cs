using Distill.Models;
using Distill.Models.Wav2Vec2;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static Distill.Tests.Wav2Vec2.Wav2Vec2TestData;

namespace Distill.Tests.Wav2Vec2;

public class Wav2Vec2ConfigTests
{
    public static TheoryData<string, string> Folders()
    {
        var data = new TheoryData<string, string>();
        foreach (var v in new[] { "groupnorm", "layernorm" })
            foreach (var c in new[] { "Wav2Vec2Model", "Wav2Vec2ForCTC", "Wav2Vec2ForSequenceClassification" })
                data.Add(v, c);
        return data;
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void ReferenceConfigsBindWithTheirValues(string variant, string cls)
    {
        var c = Config(Folder(variant, cls));
        Assert.Empty(c.Validate());
        Assert.Equal(32, c.HiddenSize);
        Assert.Equal(2, c.NumHiddenLayers);
        Assert.Equal(37, c.IntermediateSize);
        Assert.Equal(new[] { 10, 3, 3, 3, 3, 2, 2 }, c.ConvKernel);
        Assert.Equal(16, c.NumConvPosEmbeddings);
        Assert.Equal(4, c.NumConvPosEmbeddingGroups);
        Assert.Equal(10, c.NumLabels);
        Assert.Equal(16, c.ClassifierProjSize);
        Assert.Equal(variant == "layernorm" ? "layer" : "group", c.FeatExtractNorm);
        Assert.Equal(variant == "layernorm", c.DoStableLayerNorm);
        Assert.Equal(variant == "layernorm", c.ConvBias);
        Assert.Equal(cls, c.Architecture);
        Assert.Equal(400, c.MinimumSamples());
        Assert.Equal(320, c.SamplesPerFrame);
        Assert.Equal(9, c.FeatureLength(3200));
        Assert.Equal(11, c.FeatureLength(3886));
        Assert.Equal(0, c.FeatureLength(399));
        Assert.Equal(1, c.FeatureLength(400));
    }

    [Fact]
    public void RegistryBuildsTheHeadNamedByArchitectures()
    {
        var family = ModelRegistry.Default.Get("wav2vec2");
        Assert.Equal(typeof(Wav2Vec2Config), family.ConfigType);
        Assert.Equal(new[] { "input_values", "attention_mask" }, family.Inputs);
        var ctc = family.Build(Config(Folder("groupnorm", "Wav2Vec2ForCTC")));
        Assert.IsType<Wav2Vec2ForCTC>(ctc);
        Assert.Equal(32, ctc.NumLabels);
        var cls = family.Build(Config(Folder("layernorm", "Wav2Vec2ForSequenceClassification")));
        Assert.IsType<Wav2Vec2ForSequenceClassification>(cls);
        Assert.Equal("wav2vec2", cls.Family);
        Assert.Equal(2, cls.NumHiddenLayers);
        Assert.IsType<Wav2Vec2ForSequenceClassification>(family.Build(new Wav2Vec2Config { HiddenSize = 16, NumAttentionHeads = 2, IntermediateSize = 8, NumHiddenLayers = 1, ConvDim = [8, 8], ConvKernel = [10, 3], ConvStride = [5, 2], NumConvPosEmbeddings = 4, NumConvPosEmbeddingGroups = 2 }));
        var ex = Assert.Throws<ArgumentException>(() => family.Build(Config(Folder("groupnorm", "Wav2Vec2Model"))));
        Assert.Contains("Wav2Vec2Model", ex.Message);
    }

    [Theory]
    [InlineData("conv_dim", "conv_kernel")]
    [InlineData("feat_extract_norm", "'batch'")]
    [InlineData("hidden_act", "'tanh'")]
    [InlineData("feat_extract_activation", "'elu'")]
    [InlineData("num_attention_heads", "do not divide")]
    [InlineData("num_conv_pos_embedding_groups", "do not divide")]
    [InlineData("ctc_loss_reduction", "'none'")]
    [InlineData("add_adapter", "not supported")]
    [InlineData("adapter_attn_dim", "not supported")]
    [InlineData("position_embeddings_type", "Conformer")]
    [InlineData("hidden_dropout", "[0, 1)")]
    [InlineData("pad_token_id", "blank")]
    [InlineData("architectures", "Wav2Vec2ForPreTraining")]
    [InlineData("num_feat_extract_layers", "conv_dim has 7")]
    public void InvalidValuesAreReportedUnderTheirKey(string key, string fragment)
    {
        var good = Config(Folder("groupnorm", "Wav2Vec2ForCTC"));
        var bad = key switch
        {
            "conv_dim" => good with { ConvKernel = [10, 3, 3] },
            "feat_extract_norm" => good with { FeatExtractNorm = "batch" },
            "hidden_act" => good with { HiddenAct = "tanh" },
            "feat_extract_activation" => good with { FeatExtractActivation = "elu" },
            "num_attention_heads" => good with { NumAttentionHeads = 5 },
            "num_conv_pos_embedding_groups" => good with { NumConvPosEmbeddingGroups = 5 },
            "ctc_loss_reduction" => good with { CtcLossReduction = "none" },
            "add_adapter" => good with { AddAdapter = true },
            "adapter_attn_dim" => good with { AdapterAttnDim = 16 },
            "position_embeddings_type" => good with { PositionEmbeddingsType = "relative" },
            "hidden_dropout" => good with { HiddenDropout = 1.5 },
            "pad_token_id" => good with { PadTokenId = 32 },
            "architectures" => good with { Architectures = ["Wav2Vec2ForPreTraining"] },
            "num_feat_extract_layers" => good with { NumFeatExtractLayers = 5 },
            _ => throw new ArgumentOutOfRangeException(nameof(key)),
        };
        var problems = bad.Validate().ToList();
        var hit = Assert.Single(problems, p => p.Key == key);
        Assert.Contains(fragment, hit.Message);
        var ex = Assert.Throws<ArgumentException>(() => new Wav2Vec2ForCTC(bad));
        Assert.Contains(key, ex.Message);
    }

    [Fact]
    public void ConfigJsonWithUnknownKeyOrBadJsonNamesTheFile()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"w2v-cfg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "config.json");
            File.WriteAllText(path, """{"hidden_size": 32, "num_attention_heads": 4, "num_conv_pos_embedding_groups": 4, "hiden_layers": 3}""");
            var ex = Assert.Throws<InvalidDataException>(() => Wav2Vec2Config.FromJsonFile(path));
            Assert.Contains(path, ex.Message);
            Assert.Contains("hiden_layers", ex.Message);

            File.WriteAllText(path, """{"hidden_size": "big"}""");
            ex = Assert.Throws<InvalidDataException>(() => Wav2Vec2Config.FromJsonFile(path));
            Assert.Contains(path, ex.Message);
            Assert.Contains("hidden_size", ex.Message);

            File.WriteAllText(path, """{"hidden_size": 32, "num_attention_heads": 4, "num_conv_pos_embedding_groups": 4, "feat_extract_norm": "batch", "_name_or_path": "x"}""");
            ex = Assert.Throws<InvalidDataException>(() => Wav2Vec2Config.FromJsonFile(path));
            Assert.Contains("feat_extract_norm", ex.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void NumLabelsComesFromId2LabelUnlessGiven()
    {
        Assert.Equal(2, new Wav2Vec2Config().NumLabels);
        Assert.Equal(3, new Wav2Vec2Config { Id2Label = new() { ["0"] = "a", ["1"] = "b", ["2"] = "c" } }.NumLabels);
        var both = new Wav2Vec2Config { NumLabelsValue = 4, Id2Label = new() { ["0"] = "a", ["1"] = "b" } };
        Assert.Contains(both.Validate(), p => p.Key == "num_labels");
    }

    [Fact]
    public void ParametrizationKeysOfNewerTorchLoadLikeLegacyWeightNorm()
    {
        string folder = Folder("layernorm", "Wav2Vec2Model");
        var legacy = SafeTensorsRaw(folder);
        var renamed = legacy.ToDictionary(
            kv => kv.Key.Replace("conv.weight_g", "conv.parametrizations.weight.original0").Replace("conv.weight_v", "conv.parametrizations.weight.original1"),
            kv => kv.Value);
        Assert.Contains("encoder.pos_conv_embed.conv.parametrizations.weight.original1", renamed.Keys);
        var normalized = Wav2Vec2StateDict.Normalize(renamed);
        Assert.Equal(legacy.Keys.Order(), normalized.Keys.Order());
        var model = new Wav2Vec2Model(Config(folder));
        LoadStrict(model, normalized);
        var g = model.named_parameters().Single(p => p.name == "encoder.pos_conv_embed.conv.weight_g").parameter;
        Assert.True(g.equal(legacy["encoder.pos_conv_embed.conv.weight_g"]).all().item<bool>());

        var both = new Dictionary<string, Tensor>(legacy) { ["encoder.pos_conv_embed.conv.parametrizations.weight.original0"] = legacy["encoder.pos_conv_embed.conv.weight_g"] };
        Assert.Throws<ArgumentException>(() => Wav2Vec2StateDict.Normalize(both));
    }

    [Fact]
    public void BareBaseCheckpointLoadsIntoAHeadWithThePrefix()
    {
        // The three checkpoints of a variant share the wav2vec2.* weights, so the classifier's hidden states from the
        // bare Wav2Vec2Model checkpoint must equal the classifier's own HF reference.
        var head = new Wav2Vec2ForSequenceClassification(Config(Folder("layernorm", "Wav2Vec2ForSequenceClassification")));
        LoadStrict(head, Checkpoint(Folder("layernorm", "Wav2Vec2Model"), addPrefix: "wav2vec2."),
            "classifier.bias", "classifier.weight", "projector.bias", "projector.weight");
        head.eval();
        var reference = Reference(Folder("layernorm", "Wav2Vec2ForSequenceClassification"));
        using var _ = torch.no_grad();
        var output = head.call(Batch(reference, withMask: true, withLabels: false));
        Assert.True(torch.allclose(output.HiddenStates[2], reference["hidden_states.2"], rtol: 0, atol: 1e-5));

        var baseOnly = Checkpoint(Folder("layernorm", "Wav2Vec2ForCTC"), stripPrefix: "wav2vec2.");
        var model = new Wav2Vec2Model(Config(Folder("layernorm", "Wav2Vec2Model")));
        LoadStrict(model, baseOnly);
    }

    private static Dictionary<string, Tensor> SafeTensorsRaw(string folder) =>
        Distill.Checkpoints.SafeTensors.Load(Path.Combine(folder, "model.safetensors"));
}
