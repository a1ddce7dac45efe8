using Distill.Models.Hf;
using System.Text.Json;
using Distill.Checkpoints;
using Distill.Hf;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Checkpoints;

/// <summary>HF folders: config.json, weight location and preference, the architecture registry, loading and exporting.</summary>
public sealed class HfFolderTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static string Shared(string name) => TestPaths.Hf(name);
    private static readonly string ClsDir = Shared("bert-tiny-random-BertForSequenceClassification");
    private static readonly string BaseDir = Shared("bert-tiny-random-BertModel");
    private static readonly string[] TokenizerFiles = ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"];

    private static bool Same(Tensor a, Tensor b) => SafeTensorsTests.BitEqual(a, b);

    [Fact]
    public void ReadsModelTypeAndArchitecture()
    {
        var c = HfFolder.ReadConfig(ClsDir);
        Assert.Equal("bert", c.ModelType);
        Assert.Equal("BertForSequenceClassification", c.Architecture);
        Assert.Equal(Path.Combine(ClsDir, "config.json"), c.ConfigPath);
        Assert.Equal("ViTForImageClassification", HfFolder.ReadConfig(Shared("vit-tiny-random-ViTForImageClassification")).Architecture);
        Assert.Equal("wav2vec2", HfFolder.ReadConfig(Shared("wav2vec2-tiny-random-layernorm-Wav2Vec2ForCTC")).ModelType);
    }

    [Fact]
    public void BadConfigsAreNamed()
    {
        string Err(string name, string? config)
        {
            string dir = _tmp.File(name);
            Directory.CreateDirectory(dir);
            if (config != null) File.WriteAllText(Path.Combine(dir, "config.json"), config);
            var e = Assert.Throws<HfFolderException>(() => HfFolder.ReadConfig(dir));
            Assert.Contains(dir, e.Message);
            return e.Message;
        }
        Assert.Contains("no config.json", Err("none", null));
        Assert.Contains("not valid JSON", Err("json", "{\"model_type\": "));
        Assert.Contains("no string 'model_type'", Err("no-type", "{\"architectures\": [\"BertModel\"]}"));
        Assert.Contains("'architectures' is not a list", Err("arch", "{\"model_type\": \"bert\", \"architectures\": \"BertModel\"}"));
        Assert.Contains("not found", Assert.Throws<HfFolderException>(() => HfFolder.ReadConfig(_tmp.File("absent"))).Message);
    }

    private string CopyFolder(string from, string name, Func<string, bool> include)
    {
        string dir = _tmp.File(name);
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(from).Where(f => include(Path.GetFileName(f))))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    [Fact]
    public void WeightsArePreferredSafetensorsThenShardedThenBin()
    {
        Assert.Equal(HfWeightsFormat.SafeTensors, HfFolder.LocateWeights(ClsDir).Format); // the folder has both files

        string binOnly = CopyFolder(ClsDir, "bin-only", n => n != "model.safetensors");
        var w = HfFolder.LocateWeights(binOnly);
        Assert.Equal(HfWeightsFormat.PyTorchBin, w.Format);
        Assert.Equal(Path.Combine(binOnly, "pytorch_model.bin"), w.Path);

        string sharded = CopyFolder(ClsDir, "sharded", n => n == "config.json" || n == "pytorch_model.bin");
        var all = SafeTensors.Load(Path.Combine(ClsDir, "model.safetensors"));
        SafeTensors.Save(Path.Combine(sharded, "model-00001-of-00001.safetensors"), all);
        File.WriteAllText(Path.Combine(sharded, SafeTensors.IndexFileName),
            JsonSerializer.Serialize(new { weight_map = all.Keys.ToDictionary(k => k, _ => "model-00001-of-00001.safetensors") }));
        Assert.Equal(HfWeightsFormat.ShardedSafeTensors, HfFolder.LocateWeights(sharded).Format);
        var (t, _) = HfFolder.LoadWeights(sharded);
        foreach (var (k, v) in all) Assert.True(Same(v, t[k]), k);

        string none = CopyFolder(ClsDir, "none", n => n == "config.json");
        var e = Assert.Throws<HfFolderException>(() => HfFolder.LocateWeights(none));
        Assert.Contains(none, e.Message);
        Assert.Contains("looked for model.safetensors, model.safetensors.index.json, pytorch_model.bin", e.Message);

        File.WriteAllText(Path.Combine(none, "tf_model.h5"), "x");
        Assert.Contains("found tf_model.h5, which is not supported", Assert.Throws<HfFolderException>(() => HfFolder.LocateWeights(none)).Message);
    }

    [Fact]
    public void RegistryResolvesRegisteredArchitecturesAndListsThemOtherwise()
    {
        var r = FakeHf.Registry();
        Assert.Equal(["BertForSequenceClassification", "BertModel"], r.Names);
        Assert.Equal("bert", r.Resolve("BertModel").BasePrefix);
        var e = Assert.Throws<HfFolderException>(() => r.Resolve("GPT2LMHeadModel", "/m/config.json"));
        Assert.Contains("/m/config.json", e.Message);
        Assert.Contains("'GPT2LMHeadModel' is not supported (supported: BertForSequenceClassification, BertModel)", e.Message);
        Assert.Throws<ArgumentException>(() => r.Register(new HfArchitecture("BertModel", "bert", _ => new FakeBertModel(new FakeBertConfig()))));
        Assert.Contains("none registered", Assert.Throws<HfFolderException>(() => new HfArchitectureRegistry().Resolve("BertModel")).Message);
    }

    [Fact]
    public void LoadsAModelFromItsFolderThroughThePrivateRegistry()
    {
        var loaded = HfFolder.LoadModel(ClsDir, FakeHf.Registry());
        Assert.IsType<FakeBertForSequenceClassification>(loaded.Model);
        Assert.True(loaded.Report.IsExact, loaded.Report.ToString());
        Assert.Equal(Path.Combine(ClsDir, "model.safetensors"), loaded.Report.SourceName);
        var file = SafeTensors.Load(Path.Combine(ClsDir, "model.safetensors"));
        var sd = loaded.Model.state_dict();
        foreach (var (k, v) in file) Assert.True(Same(v, sd[k]), k);

        // The same weights from pytorch_model.bin only.
        string binOnly = CopyFolder(ClsDir, "bin-only", n => n != "model.safetensors");
        var fromBin = HfFolder.LoadModel(binOnly, FakeHf.Registry());
        Assert.Equal(HfWeightsFormat.PyTorchBin, fromBin.Weights.Format);
        var sd2 = fromBin.Model.state_dict();
        foreach (var (k, v) in file) Assert.True(Same(v, sd2[k]), k);
    }

    [Fact]
    public void BaseFolderIntoAHeadArchitectureNeedsAllowNewHead()
    {
        var e = Assert.Throws<StateDictMismatchException>(() =>
            HfFolder.LoadModel(BaseDir, FakeHf.Registry(), architecture: "BertForSequenceClassification"));
        Assert.Contains(Path.Combine(BaseDir, "model.safetensors"), e.Message);
        var loaded = HfFolder.LoadModel(BaseDir, FakeHf.Registry(), new LoadOptions { AllowNewHead = true }, "BertForSequenceClassification");
        Assert.Equal(["classifier.bias", "classifier.weight"], loaded.Report.NewlyInitialised.Select(n => n.Key));
        Assert.Equal(39, loaded.Report.Renamed.Count);
    }

    [Fact]
    public void UnknownArchitectureAndModelTypeMismatchAreNamed()
    {
        var e = Assert.Throws<HfFolderException>(() => HfFolder.LoadModel(Shared("vit-tiny-random-ViTModel"), FakeHf.Registry()));
        Assert.Contains("'ViTModel' is not supported (supported: BertForSequenceClassification, BertModel)", e.Message);

        string dir = CopyFolder(ClsDir, "wrong-type", n => n == "model.safetensors");
        File.WriteAllText(Path.Combine(dir, "config.json"), File.ReadAllText(Path.Combine(ClsDir, "config.json")).Replace("\"bert\"", "\"roberta\""));
        var e2 = Assert.Throws<HfFolderException>(() => HfFolder.LoadModel(dir, FakeHf.Registry()));
        Assert.Contains("model_type 'roberta' does not match architecture BertForSequenceClassification", e2.Message);
    }

    [Fact]
    public void ExportThenLoadGivesIdenticalTensorsWithoutTheProjector()
    {
        // load (a student with a distillation-only projector) -> export -> load
        var loaded = HfFolder.LoadModel(ClsDir, FakeHf.Registry(withProjector: true),
            new LoadOptions { IgnoreMissing = [@"^hint_projector\."] });
        Assert.Equal(["hint_projector.bias", "hint_projector.weight"], loaded.Report.Missing);
        string config = File.ReadAllText(Path.Combine(ClsDir, "config.json"));
        string outDir = _tmp.File("exported");
        var result = HfExporter.Export(loaded.Model, config, outDir,
            TokenizerFiles.Select(f => Path.Combine(ClsDir, f)), k => !k.StartsWith("hint_projector."));

        Assert.Equal(["hint_projector.bias", "hint_projector.weight"], result.DroppedKeys);
        Assert.Equal(41, result.Keys.Count);
        Assert.Equal(["config.json", "model.safetensors", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"], result.Files);
        Assert.Equal(config.TrimEnd('\n'), File.ReadAllText(Path.Combine(outDir, "config.json")).TrimEnd('\n'));
        foreach (var f in TokenizerFiles) Assert.Equal(File.ReadAllBytes(Path.Combine(ClsDir, f)), File.ReadAllBytes(Path.Combine(outDir, f)));
        var (_, meta, _) = SafeTensors.ReadHeader(Path.Combine(outDir, "model.safetensors"));
        Assert.Equal("pt", meta["format"]); // transformers refuses safetensors without format=pt
        Assert.Equal(["exported"], Directory.GetFileSystemEntries(_tmp.Path).Select(Path.GetFileName)); // no temp left

        // The exported file holds exactly the HF reference tensors, and loads back exactly.
        var reference = SafeTensors.Load(Path.Combine(ClsDir, "model.safetensors"));
        var exported = SafeTensors.Load(Path.Combine(outDir, "model.safetensors"));
        Assert.Equal(reference.Keys.Order(), exported.Keys.Order());
        foreach (var (k, v) in reference) Assert.True(Same(v, exported[k]), k);
        // Byte for byte what HF's save_pretrained wrote for the same weights.
        Assert.Equal(File.ReadAllBytes(Path.Combine(ClsDir, "model.safetensors")), File.ReadAllBytes(Path.Combine(outDir, "model.safetensors")));
        var again = HfFolder.LoadModel(outDir, FakeHf.Registry());
        Assert.True(again.Report.IsExact, again.Report.ToString());
        var sd = again.Model.state_dict();
        foreach (var (k, v) in reference) Assert.True(Same(v, sd[k]), k);
    }

    [Fact]
    public void ExportRefusesToOverwriteAndChecksItsInputs()
    {
        var model = new FakeBertModel(new FakeBertConfig(Vocab: 10, MaxPositions: 8));
        string cfg = """{"model_type": "bert", "architectures": ["BertModel"]}""";
        string outDir = _tmp.File("out");
        HfExporter.Export(model, cfg, outDir);
        var e = Assert.Throws<HfFolderException>(() => HfExporter.Export(model, cfg, outDir));
        Assert.Contains("exists and is not empty", e.Message);
        Assert.Contains(outDir, e.Message);

        var marker = Path.Combine(outDir, "stale.txt");
        File.WriteAllText(marker, "old");
        HfExporter.Export(model, cfg, outDir, overwrite: true);
        Assert.False(File.Exists(marker)); // replaced as a whole
        Assert.True(File.Exists(Path.Combine(outDir, "model.safetensors")));

        string empty = _tmp.File("empty");
        Directory.CreateDirectory(empty);
        HfExporter.Export(model, cfg, empty); // an existing empty folder is fine
        Assert.True(File.Exists(Path.Combine(empty, "config.json")));

        Assert.Contains("not valid JSON", Assert.Throws<HfFolderException>(() => HfExporter.Export(model, "{", _tmp.File("a"))).Message);
        Assert.Contains("no string 'model_type'", Assert.Throws<HfFolderException>(() => HfExporter.Export(model, "{}", _tmp.File("b"))).Message);
        Assert.Contains("not found", Assert.Throws<HfFolderException>(() => HfExporter.Export(model, cfg, _tmp.File("c"), [_tmp.File("nope.txt")])).Message);
        Assert.Contains("would replace the exported config.json", Assert.Throws<HfFolderException>(() =>
            HfExporter.Export(model, cfg, _tmp.File("d"), [Path.Combine(ClsDir, "config.json")])).Message);
        Assert.Contains("rejected all", Assert.Throws<HfFolderException>(() => HfExporter.Export(model, cfg, _tmp.File("e"), keepKey: _ => false)).Message);
        Assert.Equal(["empty", "out"], Directory.GetFileSystemEntries(_tmp.Path).Select(Path.GetFileName).Order());
    }
}
