using Distill.Checkpoints;
using Distill.Hf;
using Distill.Models.Bert;
using Distill.Models.Vit;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Hf;

/// <summary>The default registry's BERT and ViT architectures: each reference folder loads strictly and reproduces HF's outputs.</summary>
public sealed class HfRegistryTests(ITestOutputHelper log)
{
    [Fact]
    public void DefaultRegistryHasBertVitAndWav2Vec2()
    {
        var r = HfArchitectureRegistry.Default;
        Assert.Equal(["BertForSequenceClassification", "BertModel", "ViTForImageClassification", "ViTModel",
            "Wav2Vec2ForCTC", "Wav2Vec2ForSequenceClassification", "Wav2Vec2Model"], r.Names);
        Assert.Equal("wav2vec2", r.Resolve("Wav2Vec2ForCTC").BasePrefix);
        Assert.True(r.Resolve("BertModel").IsBase);
        Assert.False(r.Resolve("BertForSequenceClassification").IsBase);
        Assert.Equal("bert", r.Resolve("BertModel").BasePrefix);
        Assert.Equal("vit", r.Resolve("ViTForImageClassification").BasePrefix);
        Assert.True(r.TryGetFamilyByModelType("vit", out var vit) && vit.Family == "vit");
        Assert.True(r.TryGetFamilyByModelType("wav2vec2", out var w2v) && w2v.Family == "wav2vec2");
        Assert.False(r.TryGetFamilyByModelType("gpt2", out _));
    }

    [Theory]
    [InlineData(HfTestData.BertBase, typeof(BertModel))]
    [InlineData(HfTestData.BertCls, typeof(BertForSequenceClassification))]
    [InlineData(HfTestData.VitBase, typeof(ViTModel))]
    [InlineData(HfTestData.VitCls, typeof(ViTForImageClassification))]
    [InlineData(HfTestData.W2vGroupBase, typeof(Distill.Models.Wav2Vec2.Wav2Vec2Model))]
    [InlineData(HfTestData.W2vGroupCtc, typeof(Distill.Models.Wav2Vec2.Wav2Vec2ForCTC))]
    [InlineData(HfTestData.W2vLayerCls, typeof(Distill.Models.Wav2Vec2.Wav2Vec2ForSequenceClassification))]
    public void FolderLoadsStrictlyAndMatchesHfReference(string folder, Type modelType)
    {
        using var scope = NewDisposeScope();
        var loaded = HfFolder.LoadModel(HfTestData.Folder(folder), HfArchitectureRegistry.Default);
        using var model = loaded.Model;
        Assert.IsType(modelType, model);
        Assert.True(loaded.Report.IsExact, loaded.Report.ToString());
        var reference = HfTestData.Reference(folder);
        var outputs = HfForward.Run(loaded, HfTestData.Batch(HfTestData.Inputs(folder, reference)));
        HfTestData.AssertMatchesReference(log, folder, reference, outputs);
        // Hidden states and attentions are always produced (one per layer, plus the embeddings for hidden states).
        Assert.Contains("hidden_states.2", outputs.Keys);
        Assert.Contains("attentions.1", outputs.Keys);
        Assert.DoesNotContain("hidden_states.3", outputs.Keys);
    }

    [Fact]
    public void LegacyPytorchBinFolderGivesTheSameOutputs()
    {
        using var tmp = new Distill.Tests.Checkpoints.TempDir();
        string src = HfTestData.Folder(HfTestData.BertCls);
        foreach (var f in new[] { "config.json", "pytorch_model.bin" }) File.Copy(Path.Combine(src, f), tmp.File(f));
        using var scope = NewDisposeScope();
        var loaded = HfFolder.LoadModel(tmp.Path, HfArchitectureRegistry.Default);
        using var model = loaded.Model;
        Assert.Equal(HfWeightsFormat.PyTorchBin, loaded.Weights.Format);
        Assert.True(loaded.Report.IsExact, loaded.Report.ToString());
        var reference = HfTestData.Reference(HfTestData.BertCls);
        var outputs = HfForward.Run(loaded, HfTestData.Batch(HfTestData.Inputs(HfTestData.BertCls, reference)));
        HfTestData.AssertMatchesReference(log, "pytorch_model.bin", reference, outputs);
    }

    [Fact]
    public void BertBaseFolderIntoHeadArchitectureNeedsAllowNewHead()
    {
        string folder = HfTestData.Folder(HfTestData.BertBase);
        var e = Assert.Throws<StateDictMismatchException>(() =>
            HfFolder.LoadModel(folder, HfArchitectureRegistry.Default, architecture: "BertForSequenceClassification"));
        Assert.Contains("classifier.weight", e.Message);
        Assert.Contains("AllowNewHead", e.Message);

        using var scope = NewDisposeScope();
        var loaded = HfFolder.LoadModel(folder, HfArchitectureRegistry.Default, new LoadOptions { AllowNewHead = true }, "BertForSequenceClassification");
        using var model = loaded.Model;
        Assert.Equal(["classifier.bias", "classifier.weight"], loaded.Report.NewlyInitialised.Select(n => n.Key));
        Assert.Contains(loaded.Report.Renamed, r => r.From == "embeddings.word_embeddings.weight" && r.To == "bert.embeddings.word_embeddings.weight");
        Assert.Contains("newly initialised head", loaded.Report.ToString());
        // The encoder is the reference's: last_hidden_state of the base folder's reference.
        var reference = HfTestData.Reference(HfTestData.BertBase);
        var outputs = HfForward.Run(loaded, HfTestData.Batch(HfTestData.Inputs(HfTestData.BertBase, reference)));
        Assert.Equal(new long[] { 3, 2 }, outputs["logits"].shape);
        HfTestData.AssertClose(log, "hidden_states.2 via head model", reference["hidden_states.2"], outputs["hidden_states.2"], 1e-5);
    }

    [Fact]
    public void VitBaseFolderIntoHeadArchitectureReportsHeadAndUnusedPooler()
    {
        string folder = HfTestData.Folder(HfTestData.VitBase);
        Assert.Throws<StateDictMismatchException>(() =>
            HfFolder.LoadModel(folder, HfArchitectureRegistry.Default, architecture: "ViTForImageClassification"));
        using var scope = NewDisposeScope();
        var loaded = HfFolder.LoadModel(folder, HfArchitectureRegistry.Default, new LoadOptions { AllowNewHead = true }, "ViTForImageClassification");
        using var model = loaded.Model;
        Assert.Equal(["classifier.bias", "classifier.weight"], loaded.Report.NewlyInitialised.Select(n => n.Key));
        Assert.Equal(["pooler.dense.bias", "pooler.dense.weight"], loaded.Report.Unexpected.Order());
        var reference = HfTestData.Reference(HfTestData.VitBase);
        var outputs = HfForward.Run(loaded, HfTestData.Batch(HfTestData.Inputs(HfTestData.VitBase, reference)));
        HfTestData.AssertClose(log, "hidden_states.2 via head model", reference["hidden_states.2"], outputs["hidden_states.2"], 1e-5);
    }
}
