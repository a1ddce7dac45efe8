using Distill.Models.Bert;
using Distill.Recipes;
using Distill.Tests.Checkpoints;
using Xunit;
using static Distill.Tests.Hf.PretrainedRecipeTests;

namespace Distill.Tests.Hf;

/// <summary>The model-level checks (<see cref="RecipeValidator"/>) of recipes with <c>pretrained:</c> and
/// <c>init_from_teacher:</c>. Serial: the validator builds the models on the meta device, a process-wide switch.</summary>
[Collection(SerialCollection.Name)]
public sealed class PretrainedRecipeValidationTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private RecipeLoadResult Load(string teacherAndStudent, string tail = Tail)
    {
        string path = _tmp.File("recipe.yaml");
        File.WriteAllText(path, teacherAndStudent + "\n" + Sst2Data() + "\n" + tail);
        return RecipeLoader.Load(path);
    }

    [Fact]
    public void PretrainedTeacherAndInitStudentResolveToModelAndConfig()
    {
        var r = Load($"""
            teacher:
              pretrained: {PretrainedRecipeTests.Bert}
            student:
              init_from_teacher:
                layers: every_2
                hidden_size: 16
                num_attention_heads: 2
                intermediate_size: 24
            """, Tail.Replace("- kind: soft_target", "- kind: soft_target\n    - kind: hint\n      student: bert.encoder.layer.0.output\n      teacher: bert.encoder.layer.1.output"));
        Assert.True(r.Succeeded, string.Join("\n", r.Errors));
        var recipe = r.Recipe!;
        Assert.Equal("bert", recipe.Teacher.Model);
        var t = Assert.IsType<BertConfig>(recipe.Teacher.Config);
        Assert.Equal((32, 2, 4, 37, 2), (t.HiddenSize, t.NumHiddenLayers, t.NumAttentionHeads, t.IntermediateSize, t.ResolvedNumLabels));
        Assert.Equal(Path.GetFullPath(PretrainedRecipeTests.Bert), recipe.Teacher.Pretrained);
        Assert.Equal("bert", recipe.Student.Model);
        var s = Assert.IsType<BertConfig>(recipe.Student.Config);
        Assert.Equal((16, 1, 2, 24, 2, 30522), (s.HiddenSize, s.NumHiddenLayers, s.NumAttentionHeads, s.IntermediateSize, s.ResolvedNumLabels, s.VocabSize));
        // The model-level checks (module paths on the meta device, shape probe) work on the resolved specs.
        Assert.Empty(RecipeValidator.Validate(r));
    }

    [Fact]
    public void ValidatorChecksModulePathsOfPretrainedModels()
    {
        var r = Load($"""
            teacher:
              pretrained: {PretrainedRecipeTests.Bert}
            student:
              pretrained: {HfTestData.Folder(HfTestData.BertStudent)}
            """, Tail.Replace("- kind: soft_target", "- kind: hint\n      student: bert.encoder.layer.0\n      teacher: bert.encoder.layer.2"));
        Assert.True(r.Succeeded, string.Join("\n", r.Errors));
        var errors = RecipeValidator.Validate(r);
        var e = Assert.Single(errors);
        Assert.Equal("distill.terms[0].teacher", e.KeyPath);
        Assert.Contains("the teacher (bert) has no module 'bert.encoder.layer.2'", e.Message);
    }

    [Fact]
    public void ModelThatCannotRunOnTheDataIsReportedAtPretrained()
    {
        // A ViT teacher (3x32x32 images) on SST-2 text: the shape probe fails, reported where the model came from.
        var r = Load($"teacher:\n  pretrained: {HfTestData.Folder(HfTestData.VitCls)}\nstudent:\n  model: bert\n");
        Assert.True(r.Succeeded, string.Join("\n", r.Errors));
        var errors = RecipeValidator.Validate(r);
        Assert.Contains(errors, e => e.KeyPath == "teacher.pretrained" && e.Message.Contains("cannot run on one example of the sst2 data"));
    }
}
