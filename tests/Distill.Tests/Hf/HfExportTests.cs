using System.Text.Json.Nodes;
using Distill.Checkpoints;
using Distill.Hf;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Cnn;
using Distill.Models.Vit;
using Distill.Training;
using Distill.Tests.Checkpoints;
using Distill.Tests.Recipes;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Hf;

/// <summary>
/// <c>distill export</c>: a run stage's model written as a HF folder. A model loaded from HF's own folder and exported
/// again must give HF's tensors (names, shapes, bytes) and config values back; load → export → load is identical.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class HfExportTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>A run folder whose stage <paramref name="stage"/> holds <paramref name="model"/> (as distill run writes it).</summary>
    private string FakeRun(DistillModel model, string stage, string kind, HfRunSources? sources)
    {
        string run = _tmp.File("run-" + Guid.NewGuid().ToString("N")[..8]);
        TrainingCheckpoints.SaveModel(Path.Combine(run, "models", stage), model, new CheckpointState { Stage = stage, Kind = kind });
        sources?.Write(run);
        return run;
    }

    private static DistillModel LoadFromHf(string folder)
    {
        var info = HfPretrained.Inspect(folder);
        var model = ModelRegistry.Default.Get(info.Family.Family).Build(info.Config);
        var report = HfPretrained.LoadInto(model, folder);
        Assert.True(report.IsExact, report.ToString());
        return model;
    }

    /// <summary>Every key of HF's config.json (except bookkeeping HF adds) has the same value in the exported one.</summary>
    private static void AssertConfigAgrees(string hfFolder, string exported)
    {
        var hf = JsonNode.Parse(File.ReadAllText(Path.Combine(hfFolder, "config.json")))!.AsObject();
        var ours = JsonNode.Parse(File.ReadAllText(Path.Combine(exported, "config.json")))!.AsObject();
        string[] bookkeeping = ["torch_dtype", "transformers_version", "use_cache", "classifier_dropout"];
        foreach (var (key, value) in hf)
        {
            if (bookkeeping.Contains(key)) continue;
            Assert.True(ours.ContainsKey(key), $"exported config.json lacks '{key}'");
            Assert.True(JsonEqual(value, ours[key]), $"'{key}': HF {value?.ToJsonString()} vs exported {ours[key]?.ToJsonString()}");
        }
        Assert.Equal(hf["id2label"]!.AsObject().Count, ours["num_labels"]!.GetValue<int>());
    }

    private static bool JsonEqual(JsonNode? a, JsonNode? b) => (a, b) switch
    {
        (null, null) => true,
        (JsonObject x, JsonObject y) => x.Count == y.Count && x.All(kv => y.ContainsKey(kv.Key) && JsonEqual(kv.Value, y[kv.Key])),
        (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => JsonEqual(p.First, p.Second)),
        (JsonValue x, JsonValue y) when x.TryGetValue<double>(out var dx) && y.TryGetValue<double>(out var dy) => dx == dy,
        (JsonValue x, JsonValue y) => x.ToJsonString() == y.ToJsonString(),
        _ => false,
    };

    [Theory]
    [InlineData(HfTestData.BertCls, new[] { "vocab.txt", "tokenizer_config.json", "special_tokens_map.json" })]
    [InlineData(HfTestData.VitCls, new[] { "preprocessor_config.json" })]
    public void ExportOfAnHfModelGivesHfsFolderBack(string name, string[] tokenizerFiles)
    {
        string folder = HfTestData.Folder(name);
        using var scope = NewDisposeScope();
        using var model = LoadFromHf(folder);
        string run = FakeRun(model, "teacher_ft", "train_teacher", new HfRunSources { TeacherPretrained = folder });
        string outDir = _tmp.File("exported");

        var result = HfRunExport.Export(run, "teacher_ft", outDir);

        Assert.Equal(["config.json", "model.safetensors", .. tokenizerFiles.Order(StringComparer.Ordinal)], result.Files.Order(StringComparer.Ordinal));
        Assert.Empty(result.DroppedKeys);
        // The weights are HF's save_pretrained tensors: same names, shapes, dtypes and bytes; format "pt" metadata.
        HfTestData.AssertSameTensors(SafeTensors.Load(Path.Combine(folder, "model.safetensors")), SafeTensors.Load(Path.Combine(outDir, "model.safetensors")));
        Assert.Equal("pt", SafeTensors.ReadHeader(Path.Combine(outDir, "model.safetensors")).Metadata["format"]);
        AssertConfigAgrees(folder, outDir);
        foreach (var f in tokenizerFiles)
            Assert.Equal(File.ReadAllBytes(Path.Combine(folder, f)), File.ReadAllBytes(Path.Combine(outDir, f)));

        // load -> export -> load: identical tensors and identical outputs.
        var back = HfFolder.LoadModel(outDir, HfArchitectureRegistry.Default);
        using var backModel = back.Model;
        Assert.True(back.Report.IsExact, back.Report.ToString());
        HfTestData.AssertSameTensors(model.state_dict(), backModel.state_dict());
        var reference = HfTestData.Reference(name);
        var batch = HfTestData.Batch(HfTestData.Inputs(name, reference));
        var before = HfForward.Run(model, HfArchitectureRegistry.Default.Resolve(back.Architecture.Name), batch);
        var after = HfForward.Run(back, batch);
        HfTestData.AssertSameTensors(before, after);
    }

    [Fact]
    public void ConfigWithoutClassNamesGetsHfDefaultLabels()
    {
        var g = ParamInit.Seeded(3);
        using var model = ParamInit.Build(g, () => new BertForSequenceClassification(new BertConfig
        {
            VocabSize = 40, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 12, NumLabels = 3,
        }));
        string run = FakeRun(model, "baseline", "baseline", null);
        string outDir = _tmp.File("out3");
        var result = HfRunExport.Export(run, "baseline", outDir);
        Assert.Equal(["config.json", "model.safetensors"], result.Files);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!.AsObject();
        Assert.Equal("bert", (string)config["model_type"]!);
        Assert.Equal("BertForSequenceClassification", (string)config["architectures"]![0]!);
        Assert.Equal(3, (int)config["num_labels"]!);
        Assert.Equal("LABEL_2", (string)config["id2label"]!["2"]!);
        Assert.Equal(1, (int)config["label2id"]!["LABEL_1"]!);
        Assert.Equal(3, BertConfig.Load(outDir).ResolvedNumLabels);
    }

    [Fact]
    public void NonHfFamilyIsRefused()
    {
        using var cnn = new CnnModel(new CnnConfig { Channels = [4], HiddenSize = 8 });
        string run = FakeRun(cnn, "baseline", "baseline", null);
        var e = Assert.Throws<HfFolderException>(() => HfRunExport.Export(run, "baseline", _tmp.File("o")));
        Assert.Contains("holds a 'cnn' model", e.Message);
        Assert.Contains("only for the HF families (bert, vit, wav2vec2)", e.Message);
        Assert.False(Directory.Exists(_tmp.File("o")));
    }

    [Fact]
    public void UnknownStageListsTheStagesWithModels()
    {
        var g = ParamInit.Seeded(3);
        using var model = ParamInit.Build(g, () => new ViTForImageClassification(new ViTConfig { ImageSize = 8, PatchSize = 4, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 8 }));
        string run = FakeRun(model, "distill", "distill", null);
        var e = Assert.Throws<HfFolderException>(() => HfRunExport.Export(run, "teacher", _tmp.File("o")));
        Assert.Contains("stage 'teacher' has no final model", e.Message);
        Assert.Contains("stages with models: distill", e.Message);
        Assert.Contains("run folder not found", Assert.Throws<HfFolderException>(() => HfRunExport.Export(_tmp.File("nope"), "x", _tmp.File("o"))).Message);
    }

    [Fact]
    public void TheClassNamesARunRecordedBecomeTheFoldersId2Label()
    {
        string folder = HfTestData.Folder(HfTestData.BertCls);
        using var model = LoadFromHf(folder);
        string run = FakeRun(model, "baseline", "baseline", null);
        string outDir = _tmp.File("labelled");
        // Without recorded labels the config's own names stay (the fixture's: negative, positive).
        Assert.Equal(0, CliCapture.Run("export", run, "--stage", "baseline", "--out", outDir, "--files-from", folder).Code);
        var plain = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!;
        Assert.Equal("negative", (string)plain["id2label"]!["0"]!);

        // A run of a dataset with named labels records them in summary.json; export writes them.
        File.WriteAllText(Path.Combine(run, "summary.json"),
            """{"recipe": "r.yaml", "recipe_sha256": "x", "labels": ["bad", "good"], "stages": []}""");
        Assert.Equal(0, CliCapture.Run("export", run, "--stage", "baseline", "--out", outDir, "--files-from", folder, "--overwrite").Code);
        var named = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!;
        Assert.Equal("bad", (string)named["id2label"]!["0"]!);
        Assert.Equal("good", (string)named["id2label"]!["1"]!);
        Assert.Equal(1, (int)named["label2id"]!["good"]!);
    }

    [Fact]
    public void ExportCommandExitCodes()
    {
        string folder = HfTestData.Folder(HfTestData.VitCls);
        using var model = LoadFromHf(folder);
        string run = FakeRun(model, "distill", "distill", null);
        string outDir = _tmp.File("cli-out");

        var (code, stdout, _) = CliCapture.Run("export", run, "--stage", "distill", "--out", outDir, "--files-from", folder);
        Assert.Equal(0, code);
        Assert.Contains("exported stage 'distill'", stdout);
        Assert.True(File.Exists(Path.Combine(outDir, "preprocessor_config.json")));

        (code, _, var err) = CliCapture.Run("export", run, "--stage", "distill", "--out", outDir);
        Assert.Equal(2, code);
        Assert.Contains("not empty", err);
        Assert.Contains("pass --overwrite", err); // the flag's real name (issue 18, row 8)
        (code, _, _) = CliCapture.Run("export", run, "--stage", "distill", "--out", outDir, "--overwrite");
        Assert.Equal(0, code);
        File.WriteAllText(_tmp.File("a-file"), "x");
        (code, _, err) = CliCapture.Run("export", run, "--stage", "distill", "--out", Path.Combine(_tmp.File("a-file"), "out"));
        Assert.Equal(2, code); // an unwritable output is invalid input
        Assert.Contains("cannot create the export folder", err);
        (code, _, err) = CliCapture.Run("export", run, "--stage", "distill", "--out", _tmp.File("x"), "--files-from", _tmp.File("missing"));
        Assert.Equal(2, code);
        Assert.Contains("not found", err);
        (code, _, err) = CliCapture.Run("export", run, "--stage", "nope", "--out", _tmp.File("x"));
        Assert.Equal(2, code);
        (code, _, err) = CliCapture.Run("export", run, "--out", outDir);
        Assert.Equal(2, code);
        Assert.Contains("--stage <name> is required", err);
    }
}
