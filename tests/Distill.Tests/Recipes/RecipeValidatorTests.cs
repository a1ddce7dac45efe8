using Distill.Losses;
using Distill.Recipes;
using TorchSharp;
using Xunit;
using static Distill.Tests.Recipes.RecipeFixtures;

namespace Distill.Tests.Recipes;

/// <summary>Model-level checks: module paths on the meta device and the one-example shape probe feeding loss factories.</summary>
[Collection(SerialCollection.Name)]
public class RecipeValidatorTests
{
    /// <summary>A loss term that does nothing; the stub factories below return it when their checks pass.</summary>
    private sealed class StubTerm(string name) : ILossTerm
    {
        public string Name => name;
        public double Weight => 1;
        public IReadOnlyList<string> StudentTaps => [];
        public TeacherReads TeacherReads => TeacherReads.LogitsOnly;
        public bool NeedsAttentions => false;
        public torch.nn.Module? Trainable => null;
        public torch.Tensor Compute(DistillContext context) => throw new InvalidOperationException("stub");
    }

    /// <summary>A private registry (the global one is untouched) with stub factories for the two kinds the fixtures use.</summary>
    private static LossRegistry StubLosses(Func<HintSpec, LossBuildContext, ILossTerm> hint, Func<SoftTargetSpec, LossBuildContext, ILossTerm>? soft = null)
    {
        var r = new LossRegistry();
        r.Register("soft_target", soft ?? ((s, _) => new StubTerm(s.DisplayName)), "stub");
        r.Register("hint", hint, "stub");
        return r;
    }

    private static IReadOnlyList<RecipeError> Validate(string fixture, LossRegistry losses, params string[] overrides)
    {
        var loaded = RecipeLoader.Load(Path(fixture), overrides);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        return RecipeValidator.Validate(loaded, losses);
    }

    [Fact]
    public void HintModuleMissingInStudent_ListsNearestPaths_AndRestoresCpu()
    {
        var (recipe, errors) = RecipeValidation.Check(Path("broken/hint_bad_module.yaml"), []);
        Assert.Null(recipe);
        var e = Single(errors, 17, 16, "distill.terms[1].student", "the student (cnn) has no module 'blocks.2'; nearest valid paths: blocks.0, blocks.1");
        Assert.Equal(Path("broken/hint_bad_module.yaml"), e.File);
        Assert.Equal(DeviceType.CPU, torch.get_default_device().type);
        using var t = torch.zeros(2);
        Assert.Equal(DeviceType.CPU, t.device_type);
    }

    [Fact]
    public void TeacherPathFromOverride_IsReportedAtTheOverride()
    {
        var errors = Validate("valid/mnist_hint.yaml", StubLosses((s, _) => new StubTerm(s.DisplayName)), "distill.terms.1.teacher=block.1");
        var e = Single(errors, 0, 0, "distill.terms[1].teacher", "the teacher (cnn) has no module 'block.1'");
        Assert.Equal("--set distill.terms.1.teacher=block.1", e.File);
    }

    [Fact]
    public void ShapeProbe_MeasuresEveryModuleOnOneExample()
    {
        LossBuildContext? seen = null;
        var errors = Validate("valid/mnist_hint.yaml", StubLosses((s, ctx) => { seen = ctx; return new StubTerm(s.DisplayName); }));
        Assert.Empty(errors);
        Assert.NotNull(seen);
        // Student: channels [8, 16], hidden 32 on 28x28 MNIST; each block halves the side (28 -> 14 -> 7).
        Assert.Equal([1, 8, 28, 28], seen.StudentModuleShapes["blocks.0.conv"]);
        Assert.Equal([1, 8, 14, 14], seen.StudentModuleShapes["blocks.0"]);
        Assert.Equal([1, 16, 7, 7], seen.StudentModuleShapes["blocks.1"]);
        Assert.Equal([1, 32], seen.StudentModuleShapes["fc"]);
        Assert.Equal([1, 10], seen.StudentModuleShapes["classifier"]);
        Assert.Equal([1, 64, 7, 7], seen.TeacherModuleShapes["blocks.1"]);
        Assert.Equal([1, 128], seen.TeacherModuleShapes["fc"]);
        Assert.Equal(new long[][] { [1, 1, 28, 28], [1, 8, 14, 14], [1, 16, 7, 7] }, seen.StudentHiddenShapes);
        Assert.Equal(3, seen.TeacherHiddenShapes.Count);
        Assert.Empty(seen.StudentAttentionShapes);
        Assert.Equal("cnn", seen.Student.Family);
    }

    [Fact]
    public void LossConfigException_IsReportedAtTheTermsKey()
    {
        var errors = Validate("valid/mnist_hint.yaml", StubLosses((s, ctx) =>
            throw new LossConfigException("teacher", $"cannot project {string.Join("x", ctx.StudentModuleShapes[s.Student])} onto the teacher's feature")));
        Single(errors, 29, 16, "distill.terms[1].teacher", "cannot project 1x16x7x7 onto the teacher's feature");
    }

    [Fact]
    public void UnimplementedLossKind_IsReportedAtItsKind()
    {
        var errors = Validate("valid/mnist_hint.yaml", StubLosses(
            (s, _) => new StubTerm(s.DisplayName),
            (_, _) => throw new NotImplementedException()));
        Single(errors, 23, 13, "distill.terms[0].kind", "loss kind 'soft_target' is not available");
    }

    [Fact]
    public void ModelThatCannotRunOnTheData_IsReportedAtItsConfig()
    {
        // An MLP expecting 100 features cannot take a 28x28 MNIST image: found by the one-example probe.
        var errors = Validate("valid/mlp_defaults.yaml", StubLosses((s, _) => new StubTerm(s.DisplayName)), "student.config.input_size=100");
        var e = Single(errors, 7, 5, "student.config", "the student cannot run on one example of the mnist data");
        Assert.Contains("input_size is 100", e.Message);
    }
}
