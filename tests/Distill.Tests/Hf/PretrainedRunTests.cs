using System.Text.Json.Nodes;
using Distill.Checkpoints;
using Distill.Hf;
using Distill.Models.Vit;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Stages.Results;
using Distill.Tests.Checkpoints;
using Distill.Tests.Recipes;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Hf;

/// <summary>Runs that use HF folders: a pretrained teacher evaluated without training, a student initialised from it,
/// new heads reported, and the distilled student exported and reloaded.</summary>
[Collection(SerialCollection.Name)]
public sealed class PretrainedRunTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private string Write(string yaml)
    {
        string path = _tmp.File("recipe.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void PretrainedTeacherInitStudentDistillThenExport()
    {
        string bert = HfTestData.Folder(HfTestData.BertCls);
        string path = Write($"""
            teacher:
              pretrained: {bert}
            student:
              init_from_teacher:
                layers: every_2
                hidden_size: 16
                num_attention_heads: 2
                intermediate_size: 24
            {PretrainedRecipeTests.Sst2Data()}
            distill:
              terms:
                - kind: soft_target
                - kind: hint
                  student: bert.encoder.layer.0.output
                  teacher: bert.encoder.layer.1.output
            train:
              steps: 2
              batch_size: 8
              log_every: 1
              checkpoint_every: 1
            output:
              tensorboard: false
            stages:
              - kind: distill
            """);
        var (recipe, errors) = RecipeValidation.Check(path);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        string runDir = _tmp.File("run");
        var logText = new StringWriter();
        var summary = new RunExecutor { Recipe = recipe!, RecipePath = path, RecipeSha256 = "t", RunDir = runDir, Log = logText }.Execute();
        log.WriteLine(logText.ToString());

        // The pretrained teacher is an entry of its own, like teacher_checkpoint; no train_teacher stage ran.
        Assert.Equal(["teacher_pretrained", "distill"], summary.Stages.Select(s => s.Kind));
        var teacher = Assert.IsType<TeacherPretrainedResult>(summary.Stages[0]);
        Assert.Equal(Path.GetFullPath(bert), teacher.Pretrained);
        Assert.InRange(teacher.Metrics["accuracy"], 0, 1);
        Assert.Null(teacher.TeacherNewHead);
        // The student's initialisation is recorded in its stage's entry (and summary.json).
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, RunSummary.FileName)))!;
        var init = json["stages"]![1]!["student_init_from_teacher"]!;
        Assert.Equal(0, (int)init["teacher_layers"]![0]!);
        Assert.Contains("student layers <- teacher layers [0]", logText.ToString());
        Assert.Contains($"[teacher] pretrained {Path.GetFullPath(bert)}: loaded 41 tensors", logText.ToString());
        // The run's checkpoints carry the hint projector ...
        Assert.True(File.Exists(Path.Combine(runDir, "checkpoints", "distill", "last", "projectors.safetensors")));

        // ... the export does not: it is exactly the HF student class (the shared student folder has the same shapes).
        string outDir = _tmp.File("student-hf");
        var result = HfRunExport.Export(runDir, "distill", outDir);
        log.WriteLine(File.ReadAllText(Path.Combine(outDir, "config.json")));
        Assert.Contains("vocab.txt", result.Files);
        var exported = SafeTensors.Load(Path.Combine(outDir, "model.safetensors"));
        var hfStudent = SafeTensors.Load(Path.Combine(HfTestData.Folder(HfTestData.BertStudent), "model.safetensors"));
        Assert.Equal(hfStudent.Keys.Order(StringComparer.Ordinal), exported.Keys.Order(StringComparer.Ordinal));
        foreach (var (k, t) in hfStudent) Assert.Equal(t.shape, exported[k].shape);
        Assert.DoesNotContain(exported.Keys, k => k.Contains("projector", StringComparison.Ordinal));

        // Round trip: the run's model and the exported folder hold the same tensors and compute the same outputs.
        using var scope = NewDisposeScope();
        using var trained = Distill.Models.ModelCheckpoint.Load(Path.Combine(runDir, "models", "distill"), Distill.Models.ModelRegistry.Default);
        var back = HfFolder.LoadModel(outDir, HfArchitectureRegistry.Default);
        using var backModel = back.Model;
        Assert.True(back.Report.IsExact, back.Report.ToString());
        HfTestData.AssertSameTensors(trained.state_dict(), backModel.state_dict());
        var reference = HfTestData.Reference(HfTestData.BertCls);
        var batch = HfTestData.Batch(HfTestData.Inputs(HfTestData.BertCls, reference));
        HfTestData.AssertSameTensors(HfForward.Run(trained, back.Architecture, batch), HfForward.Run(back, batch));
    }

    [Fact]
    public void DatasetWithOtherClassCountGetsANewReportedHead()
    {
        // A 5-label copy of the ViT folder (config and classifier cut consistently), used on CIFAR-10 (10 classes).
        string src = HfTestData.Folder(HfTestData.VitCls), five = _tmp.File("vit-5-labels");
        Directory.CreateDirectory(five);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(src, "config.json")))!.AsObject();
        config["id2label"] = new JsonObject(Enumerable.Range(0, 5).Select(i => KeyValuePair.Create(i.ToString(), (JsonNode?)JsonValue.Create($"c{i}"))));
        config["label2id"] = new JsonObject(Enumerable.Range(0, 5).Select(i => KeyValuePair.Create($"c{i}", (JsonNode?)JsonValue.Create(i))));
        File.WriteAllText(Path.Combine(five, "config.json"), config.ToJsonString());
        var weights = SafeTensors.Load(Path.Combine(src, "model.safetensors"));
        weights["classifier.weight"] = weights["classifier.weight"][..5].contiguous();
        weights["classifier.bias"] = weights["classifier.bias"][..5].contiguous();
        SafeTensors.Save(Path.Combine(five, "model.safetensors"), weights, new Dictionary<string, string> { ["format"] = "pt" });

        string path = Write($"""
            teacher:
              pretrained: {five}
            student:
              init_from_teacher:
                layers: [1]
                hidden_size: 16
            data:
              dataset: cifar10
              path: {TestPaths.Data}/cifar10
              eval_limit: 8
              preprocessing:
                mean: [0.5, 0.5, 0.5]
                std: [0.5, 0.5, 0.5]
            distill:
              terms:
                - kind: soft_target
            train:
              steps: 1
            stages:
              - kind: distill
            """);
        // The validator sizes the head as the run will, so soft_target sees 10 classes on both sides.
        var (recipe, errors) = RecipeValidation.Check(path);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        Assert.Equal(5, ((ViTConfig)recipe!.Teacher.Config!).NumLabels);

        var run = new RunEnvironment { Recipe = recipe, RecipePath = path, RecipeSha256 = "t", RunDir = _tmp.File("run"), Device = CPU, Log = new StringWriter() };
        var factory = new ModelFactory(run);
        var (teacher, teacherReport) = factory.Build(ModelRole.Teacher, recipe.Teacher, 1);
        using var _ = teacher;
        Assert.Equal(10, teacher.NumLabels);
        var note = teacherReport.NewHead!;
        Assert.Contains("predicts 5 labels but the dataset has 10 classes", note.Reason);
        Assert.Equal(["classifier.bias (shape differs: model [10], checkpoint [5])", "classifier.weight (shape differs: model [10, 32], checkpoint [5, 32])"],
            note.Keys);
        Assert.Contains("warning: the folder's head predicts 5 labels", run.Log.ToString());
        // The encoder is the folder's.
        var folderWeights = SafeTensors.Load(Path.Combine(five, "model.safetensors"));
        foreach (var (k, t) in teacher.state_dict().Where(kv => kv.Key.StartsWith("vit.", StringComparison.Ordinal)))
            Assert.True(SafeTensorsTests.BitEqual(folderWeights[k], t), k);

        var (student, studentReport) = factory.Build(ModelRole.Student, recipe.Student, 2, teacher);
        using var __ = student;
        Assert.Equal(10, student.NumLabels);
        Assert.Equal(1, student.NumHiddenLayers);
        using var scope = NewDisposeScope();
        Assert.True(SafeTensorsTests.BitEqual(teacher.state_dict()["classifier.weight"][.., ..16].contiguous(), student.state_dict()["classifier.weight"]));
        Assert.True(SafeTensorsTests.BitEqual(folderWeights["vit.encoder.layer.1.output.dense.bias"][..16].contiguous(),
            student.state_dict()["vit.encoder.layer.0.output.dense.bias"]));
        Assert.NotNull(studentReport.InitFromTeacher);
        Assert.Null(studentReport.NewHead);
    }
}
