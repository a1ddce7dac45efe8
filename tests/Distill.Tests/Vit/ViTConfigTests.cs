using Distill.Models;
using Distill.Models.Vit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Vit;

public class ViTConfigTests
{
    [Fact]
    public void LoadsTheReferenceConfigJson()
    {
        var c = ViTConfig.Load(Path.Combine(VitReference.Folder(VitReference.ClassifierFolder), "config.json"));
        Assert.Equal(32, c.HiddenSize);
        Assert.Equal(2, c.NumHiddenLayers);
        Assert.Equal(4, c.NumAttentionHeads);
        Assert.Equal(37, c.IntermediateSize);
        Assert.Equal("gelu", c.HiddenAct);
        Assert.Equal(1e-12, c.LayerNormEps);
        Assert.Equal(32, c.ImageSize);
        Assert.Equal(4, c.PatchSize);
        Assert.Equal(3, c.NumChannels);
        Assert.True(c.QkvBias);
        Assert.Equal(0.1, c.HiddenDropoutProb);
        Assert.Equal(0.1, c.InitializerRange);
        Assert.Equal(10, c.NumLabels); // from id2label: config.json has no num_labels
        Assert.Equal("truck", c.Id2Label!["9"]);
        Assert.Equal(65, c.SequenceLength);
        Assert.Empty(c.Validate());
    }

    [Fact]
    public void DefaultsAreHuggingFaces()
    {
        var c = new ViTConfig();
        Assert.Equal((768, 12, 12, 3072, 224, 16, 3, 2), (c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.ImageSize, c.PatchSize, c.NumChannels, c.NumLabels));
        Assert.Equal((0.0, 0.0, 0.02, 1e-12), (c.HiddenDropoutProb, c.AttentionProbsDropoutProb, c.InitializerRange, c.LayerNormEps));
        Assert.Empty(c.Validate());
    }

    [Fact]
    public void RejectsAConfigOfAnotherArchitecture()
    {
        string bert = Path.Combine(TestPaths.Hf("bert-tiny-random-BertModel"), "config.json");
        var e = Assert.Throws<InvalidDataException>(() => ViTConfig.Load(bert));
        Assert.Contains("model_type is 'bert'", e.Message);
        Assert.Contains(bert, e.Message);
    }

    public static TheoryData<ViTConfig, string> InvalidConfigs => new()
    {
        { new ViTConfig { HiddenSize = 30, NumAttentionHeads = 4 }, "num_attention_heads" },
        { new ViTConfig { ImageSize = 30, PatchSize = 4 }, "image_size" },
        { new ViTConfig { HiddenAct = "tanh" }, "hidden_act" },
        { new ViTConfig { NumLabels = 3, Id2Label = new() { ["0"] = "a", ["1"] = "b" } }, "id2label" },
        { new ViTConfig { ProblemType = "ranking" }, "problem_type" },
        { new ViTConfig { NumLabels = 0 }, "num_labels" },
        { new ViTConfig { HiddenDropoutProb = 1.0 }, "hidden_dropout_prob" },
        { new ViTConfig { LayerNormEps = 0 }, "layer_norm_eps" },
    };

    [Theory]
    [MemberData(nameof(InvalidConfigs))]
    public void InvalidValuesAreReportedAndRefusedByTheModel(ViTConfig config, string key)
    {
        Assert.Contains(config.Validate(), p => p.Key == key);
        var e = Assert.Throws<ArgumentException>(() => new ViTForImageClassification(config));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void BadConfigJsonNamesTheFileAndPlace()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vitcfg-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, "{\"model_type\": \"vit\", \"hidden_size\": \"wide\"}");
            var e = Assert.Throws<InvalidDataException>(() => ViTConfig.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("hidden_size", e.Message);
            File.WriteAllText(path, "{\"hidden_size\": 30, \"num_attention_heads\": 4}");
            e = Assert.Throws<InvalidDataException>(() => ViTConfig.Load(path));
            Assert.Contains("num_attention_heads", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void RegisteredAsVitFamily()
    {
        var family = ModelRegistry.Default.Get("vit");
        Assert.Equal(typeof(ViTConfig), family.ConfigType);
        Assert.Equal(["pixel_values"], family.Inputs);
    }
}
