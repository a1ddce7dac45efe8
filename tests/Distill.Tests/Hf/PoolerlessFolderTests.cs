using Distill.Checkpoints;
using Distill.Hf;
using Distill.Models.Bert;
using Distill.Recipes;
using Distill.Stages;
using Distill.Stages.Results;
using Distill.Tests.Checkpoints;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Hf;

/// <summary>
/// A BERT folder without pooler weights (arctic-embed-xs, most sentence-transformers exports) loads as
/// <c>from_pretrained</c> loads it: the pooler is newly initialised and reported; anything else missing stays an error.
/// The folders are copies of the bert-tiny BertModel fixture with tensors removed.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class PoolerlessFolderTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary>A copy of the BertModel fixture (config, vocab, tokenizer files) whose weights lack <paramref name="drop"/>.</summary>
    private string CopyWithout(string name, params string[] drop)
    {
        string src = HfTestData.Folder(HfTestData.BertBase), dst = _tmp.File(name);
        Directory.CreateDirectory(dst);
        foreach (var f in Directory.EnumerateFiles(src).Where(f => Path.GetFileName(f) != HfFolder.SafeTensorsFileName))
            File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
        var weights = SafeTensors.Load(Path.Combine(src, HfFolder.SafeTensorsFileName));
        foreach (var k in drop) Assert.True(weights.Remove(k), $"the fixture has no {k}");
        SafeTensors.Save(Path.Combine(dst, HfFolder.SafeTensorsFileName), weights, new Dictionary<string, string> { ["format"] = "pt" });
        return dst;
    }

    private static readonly string[] Pooler = ["pooler.dense.bias", "pooler.dense.weight"];

    [Fact]
    public void BertModelWithoutPoolerLoadsWithTheRestExactAndThePoolerReported()
    {
        using var scope = NewDisposeScope();
        string folder = CopyWithout("no-pooler", Pooler);
        var loaded = HfFolder.LoadModel(folder, HfArchitectureRegistry.Default);
        using var model = loaded.Model;
        log.WriteLine(loaded.Report.ToString());
        var part = Assert.Single(loaded.Report.NewParts);
        Assert.Equal("pooler", part.Name);
        Assert.Equal(Pooler, part.Keys);
        Assert.False(loaded.Report.IsExact);
        Assert.Empty(loaded.Report.Missing);
        Assert.Contains("newly initialised pooler (pooler.dense.bias, pooler.dense.weight)", loaded.Report.ToString());
        Assert.DoesNotContain(loaded.Report.Loaded, k => k.StartsWith("pooler.", StringComparison.Ordinal));

        // Everything but the pooler is the folder's: last_hidden_state is HF's reference output.
        var reference = HfTestData.Reference(HfTestData.BertBase);
        var outputs = HfForward.Run(loaded, HfTestData.Batch(HfTestData.Inputs(HfTestData.BertBase, reference)));
        HfTestData.AssertClose(log, "last_hidden_state", reference["last_hidden_state"], outputs["last_hidden_state"], 1e-5);

        // The original folder, with its pooler, still loads exactly.
        var full = HfFolder.LoadModel(HfTestData.Folder(HfTestData.BertBase), HfArchitectureRegistry.Default);
        full.Model.Dispose();
        Assert.True(full.Report.IsExact, full.Report.ToString());
    }

    [Fact]
    public void ForwardSaysThePoolerOutputIsNotTheFolders()
    {
        string folder = CopyWithout("forward-no-pooler", Pooler);
        var reference = HfTestData.Reference(HfTestData.BertBase);
        string inputs = _tmp.File("in.safetensors");
        SafeTensors.Save(inputs, HfTestData.Inputs(HfTestData.BertBase, reference));
        var (code, _, err) = CliCapture.Run("forward", "--model", folder, "--inputs", inputs, "--out", _tmp.File("out.safetensors"));
        Assert.Equal(0, code);
        Assert.Contains($"warning: {folder} has no pooler (pooler.dense.bias, pooler.dense.weight): newly initialised (random)", err);
    }

    [Fact]
    public void HalfAPoolerIsStillAnError()
    {
        string folder = CopyWithout("half-pooler", "pooler.dense.bias");
        var e = Assert.Throws<StateDictMismatchException>(() => HfFolder.LoadModel(folder, HfArchitectureRegistry.Default));
        Assert.Equal(["pooler.dense.bias"], e.Missing);
        Assert.Contains("only part of the pooler", e.Message);
        Assert.Contains("nothing was loaded", e.Message);
    }

    [Fact]
    public void AnyOtherMissingKeyIsStillAnError()
    {
        string folder = CopyWithout("no-pooler-no-bias", [.. Pooler, "encoder.layer.0.output.dense.bias"]);
        var e = Assert.Throws<StateDictMismatchException>(() => HfFolder.LoadModel(folder, HfArchitectureRegistry.Default));
        Assert.Equal(["encoder.layer.0.output.dense.bias"], e.Missing);

        // Into the recipe's classification model too (base prefix added, new head allowed, pooler allowed).
        using var model = new BertForSequenceClassification(BertConfig.Load(folder));
        var e2 = Assert.Throws<StateDictMismatchException>(() => HfPretrained.LoadInto(model, folder));
        Assert.Equal(["bert.encoder.layer.0.output.dense.bias"], e2.Missing);
    }

    [Fact]
    public void PretrainedTeacherWithoutPoolerIsLoggedAndRecordedForTheSummary()
    {
        string folder = CopyWithout("teacher-no-pooler", Pooler);
        string path = _tmp.File("recipe.yaml");
        File.WriteAllText(path, $"""
            teacher:
              pretrained: {folder}
            student:
              init_from_teacher:
                layers: [1]
            {PretrainedRecipeTests.Sst2Data()}
            distill:
              terms:
                - kind: soft_target
            train:
              steps: 1
            stages:
              - kind: distill
            """);
        var (recipe, errors) = RecipeValidation.Check(path);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        var run = new RunEnvironment { Recipe = recipe!, RecipePath = path, RecipeSha256 = "t", RunDir = _tmp.File("run"), Device = CPU, Log = new StringWriter() };
        var (teacher, report) = new ModelFactory(run).Build(ModelRole.Teacher, recipe!.Teacher, 1);
        using var _ = teacher;
        string logText = run.Log.ToString()!;
        log.WriteLine(logText);

        var parts = report.NewParts!;
        Assert.Equal(folder, parts.Pretrained);
        var pooler = Assert.Single(parts.Parts);
        Assert.Equal("pooler", pooler.Name);
        Assert.Equal(["bert.pooler.dense.bias", "bert.pooler.dense.weight"], pooler.Keys);
        Assert.Contains("from_pretrained", pooler.Reason);
        Assert.Contains($"[teacher] warning: {folder} has no pooler (bert.pooler.dense.bias, bert.pooler.dense.weight): it is newly initialised", logText);
        // summary.json serialises the entry as RunSummary does (the stage result's typed record).
        var json = System.Text.Json.JsonSerializer.SerializeToNode(new TeacherPretrainedResult { Name = "teacher", Pretrained = folder }.WithBuild(report), StageResultJson.Options)!;
        Assert.Equal("pooler", (string)json["teacher_new_parts"]!["parts"]![0]!["name"]!);
        Assert.Equal("bert.pooler.dense.weight", (string)json["teacher_new_parts"]!["parts"]![0]!["keys"]![1]!);
        // The head of a base-model folder is new as before, and reported apart from the pooler.
        var head = report.NewHead!;
        Assert.Equal(["classifier.bias (not in the checkpoint)", "classifier.weight (not in the checkpoint)"], head.Keys);
    }
}
