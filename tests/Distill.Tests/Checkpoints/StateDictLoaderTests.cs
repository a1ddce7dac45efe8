using Distill.Checkpoints;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Checkpoints;

/// <summary>
/// Strict state-dict loading against the HF reference checkpoints (bert-tiny classification and base models, the
/// wav2vec2 weight-norm tensors), with hand-built modules whose keys are HF's.
/// </summary>
public sealed class StateDictLoaderTests
{
    private static string Data(string folder) => Path.Combine(TestPaths.Hf(folder), "model.safetensors");
    private static readonly string ClsFile = Data("bert-tiny-random-BertForSequenceClassification");
    private static readonly string BaseFile = Data("bert-tiny-random-BertModel");

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.equal(b).all().item<bool>();

    private static Dictionary<string, Tensor> Snapshot(nn.Module m) =>
        m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    [Fact]
    public void HfClassificationCheckpointLoadsExactlyIntoTheSameLayout()
    {
        var model = new FakeBertForSequenceClassification(new FakeBertConfig());
        var before = Snapshot(model);
        var ckpt = SafeTensors.Load(ClsFile);
        var report = StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "bert", SourceName = ClsFile });
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal(41, report.Loaded.Count);
        var sd = model.state_dict();
        foreach (var (k, v) in ckpt) Assert.True(Same(v, sd[k]), k);
        // The copy went into the live parameters (TorchSharp's state_dict returns them, not copies).
        Assert.False(Same(before["bert.encoder.layer.0.attention.self.query.weight"], model.state_dict()["bert.encoder.layer.0.attention.self.query.weight"]));
        Assert.Contains(model.parameters(), p => Same(p, ckpt["classifier.weight"]));
    }

    [Fact]
    public void BaseCheckpointIntoHeadModelNeedsAllowNewHeadAndIsReported()
    {
        var model = new FakeBertForSequenceClassification(new FakeBertConfig());
        var before = Snapshot(model);
        var ckpt = SafeTensors.Load(BaseFile);

        var e = Assert.Throws<StateDictMismatchException>(() =>
            StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "bert", SourceName = BaseFile }));
        Assert.Equal(["classifier.bias", "classifier.weight"], e.Missing);
        Assert.Empty(e.Unexpected);
        Assert.Contains(BaseFile, e.Message);
        Assert.Contains("AllowNewHead", e.Message);
        Assert.Contains("nothing was loaded", e.Message);
        foreach (var (k, v) in model.state_dict()) Assert.True(Same(before[k], v), $"{k} changed by a failed load");

        var report = StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "bert", AllowNewHead = true });
        Assert.Equal(39, report.Loaded.Count);
        Assert.Equal(39, report.Renamed.Count);
        Assert.All(report.Renamed, r => Assert.Equal("bert." + r.From, r.To));
        Assert.Contains("prefix 'bert.' added", report.Renamed[0].Rule);
        Assert.Equal(["classifier.bias", "classifier.weight"], report.NewlyInitialised.Select(n => n.Key));
        Assert.All(report.NewlyInitialised, n => Assert.Equal("not in the checkpoint", n.Reason));
        Assert.Contains("newly initialised head", report.ToString());
        var sd = model.state_dict();
        foreach (var (k, v) in ckpt) Assert.True(Same(v, sd["bert." + k]), k);
        Assert.True(Same(before["classifier.weight"], sd["classifier.weight"])); // head left at its init
    }

    [Fact]
    public void HeadCheckpointIntoBaseModelNeedsAllowDroppedHead()
    {
        var model = new FakeBertModel(new FakeBertConfig());
        var ckpt = SafeTensors.Load(ClsFile);
        var e = Assert.Throws<StateDictMismatchException>(() => StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "bert" }));
        Assert.Equal(["classifier.bias", "classifier.weight"], e.Unexpected);
        Assert.Empty(e.Missing);
        Assert.Contains("AllowDroppedHead", e.Message);

        var report = StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "bert", AllowDroppedHead = true });
        Assert.Equal(["classifier.bias", "classifier.weight"], report.DroppedHead);
        Assert.Equal(39, report.Loaded.Count);
        Assert.All(report.Renamed, r => Assert.Equal(r.From, "bert." + r.To));
        Assert.True(Same(ckpt["bert.pooler.dense.weight"], model.state_dict()["pooler.dense.weight"]));
    }

    [Fact]
    public void WithoutABasePrefixNothingIsRenamed()
    {
        var model = new FakeBertForSequenceClassification(new FakeBertConfig());
        var e = Assert.Throws<StateDictMismatchException>(() => StateDictLoader.Load(model, SafeTensors.Load(BaseFile)));
        Assert.Equal(41, e.Missing.Count);
        Assert.Equal(39, e.Unexpected.Count);
        Assert.Contains("no BasePrefix was given", e.Message);
    }

    [Fact]
    public void ChangedNumLabelsIsAShapeErrorUnlessANewHeadIsAllowed()
    {
        var model = new FakeBertForSequenceClassification(new FakeBertConfig(NumLabels: 3));
        var ckpt = SafeTensors.Load(ClsFile);
        var e = Assert.Throws<StateDictMismatchException>(() => StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "bert" }));
        Assert.Contains("classifier.weight: model [3, 32], checkpoint [2, 32]", e.Message);
        Assert.Contains("classifier.bias: model [3], checkpoint [2]", e.Message);
        Assert.Contains("AllowNewHead", e.Message);
        Assert.Equal(2, e.Mismatched.Count);

        var report = StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "bert", AllowNewHead = true });
        Assert.Equal(39, report.Loaded.Count);
        Assert.Equal(2, report.NewlyInitialised.Count);
        Assert.Contains("shape differs: model [3, 32], checkpoint [2, 32]", report.NewlyInitialised.Single(n => n.Key == "classifier.weight").Reason);
        Assert.Empty(report.Unexpected);
    }

    [Fact]
    public void ShapeMismatchOutsideTheHeadIsAlwaysAnErrorListingEveryKey()
    {
        var model = new FakeBertForSequenceClassification(new FakeBertConfig(Intermediate: 36));
        var e = Assert.Throws<StateDictMismatchException>(() => StateDictLoader.Load(model, SafeTensors.Load(ClsFile),
            new LoadOptions { BasePrefix = "bert", AllowNewHead = true, Strict = false }));
        foreach (int i in new[] { 0, 1 })
        {
            Assert.Contains($"bert.encoder.layer.{i}.intermediate.dense.weight: model [36, 32], checkpoint [37, 32]", e.Message);
            Assert.Contains($"bert.encoder.layer.{i}.intermediate.dense.bias: model [36], checkpoint [37]", e.Message);
            Assert.Contains($"bert.encoder.layer.{i}.output.dense.weight: model [32, 36], checkpoint [32, 37]", e.Message);
        }
        Assert.Equal(6, e.Mismatched.Count);
    }

    [Fact]
    public void LegacyGammaBetaNamesAreRenamedAndReported()
    {
        var ckpt = SafeTensors.Load(ClsFile);
        var legacy = ckpt.ToDictionary(
            kv => kv.Key.EndsWith("LayerNorm.weight") ? kv.Key[..^"weight".Length] + "gamma"
                : kv.Key.EndsWith("LayerNorm.bias") ? kv.Key[..^"bias".Length] + "beta" : kv.Key,
            kv => kv.Value);
        Assert.Contains("bert.embeddings.LayerNorm.gamma", legacy.Keys);
        var model = new FakeBertForSequenceClassification(new FakeBertConfig());
        var report = StateDictLoader.Load(model, legacy, new LoadOptions { BasePrefix = "bert" });
        Assert.Equal(10, report.Renamed.Count); // 5 LayerNorms x (gamma, beta)
        Assert.All(report.Renamed, r => Assert.Contains("gamma/beta", r.Rule));
        Assert.Contains(report.Renamed, r => r.From == "bert.embeddings.LayerNorm.beta" && r.To == "bert.embeddings.LayerNorm.bias");
        var sd = model.state_dict();
        foreach (var (k, v) in ckpt) Assert.True(Same(v, sd[k]), k);
    }

    [Fact]
    public void GammaAndWeightForTheSameParameterIsAmbiguous()
    {
        var ckpt = SafeTensors.Load(ClsFile);
        ckpt["bert.embeddings.LayerNorm.gamma"] = ckpt["bert.embeddings.LayerNorm.weight"];
        var model = new FakeBertForSequenceClassification(new FakeBertConfig());
        var e = Assert.Throws<StateDictMismatchException>(() => StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "bert" }));
        Assert.Contains("bert.embeddings.LayerNorm.weight: provided by both", e.Message);
    }

    private static Dictionary<string, Tensor> Wav2Vec2PosConv() =>
        SafeTensors.Load(Data("wav2vec2-tiny-random-groupnorm-Wav2Vec2Model"))
            .Where(kv => kv.Key.StartsWith("encoder.pos_conv_embed.") || kv.Key == "masked_spec_embed")
            .ToDictionary(kv => kv.Key, kv => kv.Value);

    [Fact]
    public void LegacyWeightNormCheckpointLoadsIntoParametrizations()
    {
        var ckpt = Wav2Vec2PosConv();
        Assert.Equal(4, ckpt.Count);
        var model = new FakeWav2Vec2(parametrized: true);
        var report = StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "wav2vec2" });
        Assert.Equal(2, report.Renamed.Count);
        Assert.Contains(report.Renamed, r => r.From == "encoder.pos_conv_embed.conv.weight_g" && r.To == "encoder.pos_conv_embed.conv.parametrizations.weight.original0");
        Assert.Contains(report.Renamed, r => r.From == "encoder.pos_conv_embed.conv.weight_v" && r.To == "encoder.pos_conv_embed.conv.parametrizations.weight.original1");
        var sd = model.state_dict();
        Assert.True(Same(ckpt["encoder.pos_conv_embed.conv.weight_v"], sd["encoder.pos_conv_embed.conv.parametrizations.weight.original1"]));
        Assert.True(Same(ckpt["encoder.pos_conv_embed.conv.weight_g"], sd["encoder.pos_conv_embed.conv.parametrizations.weight.original0"]));
    }

    [Fact]
    public void ParametrizationsCheckpointLoadsIntoLegacyWeightNorm()
    {
        var hf = Wav2Vec2PosConv();
        var ckpt = hf.ToDictionary(
            kv => kv.Key.Replace("conv.weight_g", "conv.parametrizations.weight.original0").Replace("conv.weight_v", "conv.parametrizations.weight.original1"),
            kv => kv.Value);
        // With the base-model prefix, as a Wav2Vec2ForCTC saved by torch >= 2.1 would have it.
        ckpt = ckpt.ToDictionary(kv => "wav2vec2." + kv.Key, kv => kv.Value);
        var model = new FakeWav2Vec2(parametrized: false);
        var report = StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "wav2vec2" });
        var sd = model.state_dict();
        Assert.True(Same(hf["encoder.pos_conv_embed.conv.weight_g"], sd["encoder.pos_conv_embed.conv.weight_g"]));
        Assert.True(Same(hf["encoder.pos_conv_embed.conv.weight_v"], sd["encoder.pos_conv_embed.conv.weight_v"]));
        var g = report.Renamed.Single(r => r.To == "encoder.pos_conv_embed.conv.weight_g");
        Assert.Contains("prefix 'wav2vec2.' stripped", g.Rule);
        Assert.Contains("weight_g/weight_v", g.Rule);
    }

    [Fact]
    public void MissingAndUnexpectedAreAllListedWithTheSourceAndNothingIsCopied()
    {
        var ckpt = SafeTensors.Load(ClsFile);
        ckpt.Remove("bert.pooler.dense.bias");
        ckpt.Remove("bert.encoder.layer.1.output.LayerNorm.weight");
        ckpt["bert.extra.weight"] = torch.ones(3);
        ckpt["lm_head.bias"] = torch.ones(3);
        var model = new FakeBertForSequenceClassification(new FakeBertConfig());
        var before = Snapshot(model);
        var e = Assert.Throws<StateDictMismatchException>(() =>
            StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "bert", SourceName = "/x/model.safetensors" }));
        Assert.Equal(["bert.encoder.layer.1.output.LayerNorm.weight", "bert.pooler.dense.bias"], e.Missing);
        Assert.Equal(["bert.extra.weight", "lm_head.bias"], e.Unexpected);
        Assert.StartsWith("/x/model.safetensors: ", e.Message);
        Assert.Contains("bert.pooler.dense.bias", e.Message);
        Assert.Contains("lm_head.bias", e.Message);
        Assert.Contains("AllowDroppedHead", e.Message); // lm_head is outside 'bert.': the checkpoint's head
        foreach (var (k, v) in model.state_dict()) Assert.True(Same(before[k], v), $"{k} changed by a failed load");
    }

    [Fact]
    public void NonStrictAndIgnorePatternsTolerateButReport()
    {
        var ckpt = SafeTensors.Load(ClsFile);
        ckpt.Remove("bert.pooler.dense.bias");
        ckpt["bert.embeddings.position_ids"] = torch.arange(512L);
        var model = new FakeBertForSequenceClassification(new FakeBertConfig());

        var r1 = StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "bert", Strict = false });
        Assert.Equal(["bert.pooler.dense.bias"], r1.Missing);
        Assert.Equal(["bert.embeddings.position_ids"], r1.Unexpected);
        Assert.Equal(40, r1.Loaded.Count);

        var r2 = StateDictLoader.Load(model, ckpt, new LoadOptions
        {
            BasePrefix = "bert", IgnoreMissing = [@"pooler\.dense\.bias$"], IgnoreUnexpected = [@"position_ids$"],
        });
        Assert.Equal(["bert.pooler.dense.bias"], r2.Missing);
        Assert.Equal(["bert.embeddings.position_ids"], r2.Unexpected);
        Assert.Contains("missing (tolerated)", r2.ToString());

        var e = Assert.Throws<StateDictMismatchException>(() => StateDictLoader.Load(model, ckpt, new LoadOptions
        {
            BasePrefix = "bert", IgnoreUnexpected = [@"position_ids$"],
        }));
        Assert.Equal(["bert.pooler.dense.bias"], e.Missing);
    }

    [Fact]
    public void FloatingValuesConvertToTheModelDtypeButNotIntoIntegerBuffers()
    {
        var ckpt = SafeTensors.Load(ClsFile).ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float16));
        var model = new FakeBertForSequenceClassification(new FakeBertConfig());
        StateDictLoader.Load(model, ckpt, new LoadOptions { BasePrefix = "bert" });
        var w = model.state_dict()["classifier.weight"];
        Assert.Equal(ScalarType.Float32, w.dtype);
        Assert.True(Same(ckpt["classifier.weight"].to(ScalarType.Float32), w));

        var withIds = new FakeWithIdsBuffer();
        var src = new Dictionary<string, Tensor>
        {
            ["dense.weight"] = torch.ones(2, 2), ["dense.bias"] = torch.ones(2), ["position_ids"] = torch.arange(4f) + 0.5f,
        };
        var e = Assert.Throws<StateDictMismatchException>(() => StateDictLoader.Load(withIds, src));
        Assert.Contains("position_ids: model dtype Int64, checkpoint dtype Float32", e.Message);
    }
}
