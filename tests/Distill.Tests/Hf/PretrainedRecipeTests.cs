using Distill.Models.Bert;
using Distill.Models.Vit;
using Distill.Recipes;
using Distill.Tests.Checkpoints;
using Distill.Tests.Recipes;
using Xunit;

namespace Distill.Tests.Hf;

/// <summary>Recipes with <c>pretrained:</c> and <c>init_from_teacher:</c>: resolution into model + config, and every misuse
/// reported at its key (the model-level checks of such recipes: <see cref="PretrainedRecipeValidationTests"/>).</summary>
public sealed class PretrainedRecipeTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    internal static string Sst2Data(string extra = "") => $"""
        data:
          dataset: sst2
          path: {TestPaths.Data}/sst2
          tokenizer: {HfTestData.Folder(HfTestData.BertCls)}
          train_split: dev
          eval_split: dev
          train_limit: 32
          eval_limit: 16
          eval_batch_size: 16
          max_length: 32
        {extra}
        """;

    internal const string Tail = """
        distill:
          terms:
            - kind: soft_target
        train:
          steps: 2
          batch_size: 8
        stages:
          - kind: distill
        """;

    internal string Write(string yaml, string name = "recipe.yaml")
    {
        string path = _tmp.File(name);
        File.WriteAllText(path, yaml);
        return path;
    }

    internal static string Bert => HfTestData.Folder(HfTestData.BertCls);

    private RecipeLoadResult Load(string teacherAndStudent, string tail = Tail) =>
        RecipeLoader.Load(Write(teacherAndStudent + "\n" + Sst2Data() + "\n" + tail));

    private static RecipeError OnlyError(RecipeLoadResult r, string keyPath, string fragment)
    {
        Assert.True(r.Errors.Count == 1, $"expected one error, got:\n{string.Join("\n", r.Errors)}");
        Assert.Equal(keyPath, r.Errors[0].KeyPath);
        Assert.Contains(fragment, r.Errors[0].Message);
        return r.Errors[0];
    }

    [Fact]
    public void PretrainedWithConfigIsAnErrorNamingTheFix()
    {
        var r = Load($"""
            teacher:
              model: bert
              pretrained: {Bert}
              config:
                hidden_size: 64
            student:
              model: bert
            """);
        var e = OnlyError(r, "teacher.config", "teacher.pretrained and teacher.config are both given");
        Assert.Contains("remove teacher.config", e.Message);
        Assert.Equal(5, e.Line);
    }

    [Fact]
    public void PretrainedFolderProblemsAreReportedAtPretrained()
    {
        string empty = _tmp.File("empty-folder");
        Directory.CreateDirectory(empty);
        OnlyError(Load($"teacher:\n  pretrained: {empty}\nstudent:\n  model: bert\n"), "teacher.pretrained", "no config.json");

        string mlm = _tmp.File("mlm");
        Directory.CreateDirectory(mlm);
        File.WriteAllText(Path.Combine(mlm, "config.json"), """{"model_type": "bert", "architectures": ["BertForMaskedLM"]}""");
        OnlyError(Load($"teacher:\n  pretrained: {mlm}\nstudent:\n  model: bert\n"), "teacher.pretrained", "architecture 'BertForMaskedLM' is not supported");

        string gpt = _tmp.File("gpt");
        Directory.CreateDirectory(gpt);
        File.WriteAllText(Path.Combine(gpt, "config.json"), """{"model_type": "gpt2"}""");
        OnlyError(Load($"teacher:\n  pretrained: {gpt}\nstudent:\n  model: bert\n"), "teacher.pretrained", "model_type 'gpt2' is not supported");

        string noWeights = _tmp.File("no-weights");
        Directory.CreateDirectory(noWeights);
        File.Copy(Path.Combine(Bert, "config.json"), Path.Combine(noWeights, "config.json"));
        OnlyError(Load($"teacher:\n  pretrained: {noWeights}\nstudent:\n  model: bert\n"), "teacher.pretrained", "no model weights");

        OnlyError(Load($"teacher:\n  pretrained: {_tmp.File("absent")}\nstudent:\n  model: bert\n"), "teacher.pretrained", "folder not found");
    }

    [Fact]
    public void ModelThatDisagreesWithTheFolderIsAnError()
    {
        OnlyError(Load($"teacher:\n  model: vit\n  pretrained: {Bert}\nstudent:\n  model: bert\n"), "teacher.model",
            "teacher.model is 'vit' but teacher.pretrained holds a 'bert' model");
    }

    [Fact]
    public void ModelOrPretrainedIsRequired()
    {
        Assert.Contains(Load("teacher:\n  checkpoint: ~\nstudent:\n  model: bert\n").Errors,
            e => e.KeyPath == "teacher.model" && e.Message.Contains("missing required key 'model'") && e.Message.Contains("pretrained: <hf-folder>"));
        var r = Load($"teacher:\n  pretrained: {Bert}\nstudent:\n  config:\n    hidden_size: 16\n");
        Assert.Contains(r.Errors, e => e.KeyPath == "student.model" && e.Message.Contains("init_from_teacher"));
    }

    [Fact]
    public void PretrainedWithCheckpointIsAnError()
    {
        string ckpt = _tmp.File("ckpt");
        Directory.CreateDirectory(ckpt);
        OnlyError(Load($"teacher:\n  pretrained: {Bert}\n  checkpoint: {ckpt}\nstudent:\n  model: bert\n"), "teacher.checkpoint", "both set the weights");
    }

    [Fact]
    public void InitFromTeacherMisuseIsReported()
    {
        OnlyError(Load($"teacher:\n  pretrained: {Bert}\n  init_from_teacher:\n    layers: all\nstudent:\n  model: bert\n"),
            "teacher.init_from_teacher", "only the student");
        OnlyError(Load($"teacher:\n  pretrained: {Bert}\nstudent:\n  init_from_teacher:\n    layers: [0, 5]\n"),
            "student.init_from_teacher.layers", "teacher layer 5 out of range: the teacher has 2 layers");
        OnlyError(Load($"teacher:\n  pretrained: {Bert}\nstudent:\n  init_from_teacher:\n    hidden_size: 30\n"),
            "student.init_from_teacher.hidden_size", "not divisible by num_attention_heads 4");
        OnlyError(Load($"teacher:\n  pretrained: {Bert}\nstudent:\n  init_from_teacher:\n    layers: half\n"),
            "student.init_from_teacher.layers", "not a layer selection");
        OnlyError(Load($"teacher:\n  pretrained: {Bert}\nstudent:\n  model: bert\n  config:\n    hidden_size: 16\n  init_from_teacher:\n    layers: all\n"),
            "student.config", "cannot be given with student.init_from_teacher");
        OnlyError(Load($"teacher:\n  pretrained: {Bert}\nstudent:\n  model: vit\n  init_from_teacher:\n    layers: all\n"),
            "student.model", "init_from_teacher makes the student a 'bert'");
        OnlyError(Load("teacher:\n  model: cnn\nstudent:\n  init_from_teacher:\n    layers: all\n",
                "distill:\n  terms:\n    - kind: soft_target\ntrain:\n  steps: 1\nstages:\n  - kind: train_teacher\n  - kind: distill\n"),
            "student.init_from_teacher", "available for bert, vit teachers, not 'cnn'");
    }

    [Fact]
    public void StudentFromTeacherBeforeTheTeacherExistsIsAnError()
    {
        var r = Load("teacher:\n  model: bert\n  config:\n    hidden_size: 32\n    num_attention_heads: 4\n    num_hidden_layers: 2\n    intermediate_size: 37\nstudent:\n  init_from_teacher:\n    layers: every_2\n",
            "distill:\n  terms:\n    - kind: soft_target\ntrain:\n  steps: 1\nstages:\n  - kind: baseline\n  - kind: train_teacher\n  - kind: distill\n");
        OnlyError(r, "stages[0].kind", "no teacher exists yet");
    }

    [Fact]
    public void PretrainedTeacherNeedsNoTrainTeacherStage()
    {
        var r = Load($"teacher:\n  pretrained: {Bert}\nstudent:\n  model: bert\n  config:\n    hidden_size: 16\n    num_attention_heads: 2\n    num_hidden_layers: 1\n");
        Assert.True(r.Succeeded, string.Join("\n", r.Errors));
    }
}
