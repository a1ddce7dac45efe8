using Distill.Losses;
using Distill.Models.Cnn;
using Distill.Recipes;
using Xunit;
using static Distill.Tests.Recipes.RecipeFixtures;

namespace Distill.Tests.Recipes;

/// <summary><c>--set key.path=value</c> overrides: applied before binding, type-checked like the file, located at the override.</summary>
public class RecipeOverrideTests
{
    private static readonly string Valid = Path("valid/mnist_hint.yaml");

    [Fact]
    public void ValidOverrides_AreApplied()
    {
        var result = RecipeLoader.Load(Valid,
            ["train.lr=3e-4", "stages.1.name=base", "student.config.channels=[4, 8]", "distill.terms.1.student=blocks.0", "data.eval_limit=~"]);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var r = result.Recipe!;
        Assert.Equal(3e-4, r.Train.Lr);
        Assert.Equal(3e-4, r.Stages[1].Train!.Lr); // inherited by stages without their own lr ...
        Assert.Equal(3e-4, r.Stages[2].Train!.Lr);
        Assert.Equal(2e-3, r.Stages[0].Train!.Lr); // ... but not by a stage that sets it
        Assert.Equal("base", r.Stages[1].DisplayName);
        Assert.Equal([4, 8], Assert.IsType<CnnConfig>(r.Student.Config).Channels);
        Assert.Equal("blocks.0", Assert.IsType<HintSpec>(r.Distill.Terms[1]).Student);
        Assert.Null(r.Data.EvalLimit);
    }

    [Fact]
    public void OverrideCreatesMissingKeys()
    {
        var result = RecipeLoader.Load(Valid, ["stages.1.train.steps=20", "teacher.config.dropout=0.2"]);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal((20, (double?)null), (result.Recipe!.Stages[1].Train!.Steps, result.Recipe.Stages[1].Train!.Epochs));
        Assert.Equal(0.2, Assert.IsType<CnnConfig>(result.Recipe.Teacher.Config).Dropout);
    }

    [Fact]
    public void BadType_IsReportedAtTheOverride()
    {
        var result = RecipeLoader.Load(Valid, ["train.lr=abc"]);
        var e = Single(result.Errors, 0, 0, "train.lr", "expected a number > 0 and <= 10, got 'abc'");
        Assert.Equal("--set train.lr=abc", e.File);
        Assert.Equal("--set train.lr=abc: train.lr: expected a number > 0 and <= 10, got 'abc'", e.ToString());
    }

    [Fact]
    public void UnknownKey_IsReportedAtTheOverride()
    {
        var result = RecipeLoader.Load(Valid, ["train.lrate=0.1"]);
        var e = Single(result.Errors, 0, 0, "train.lrate", "unknown key 'lrate'");
        Assert.Equal("--set train.lrate=0.1", e.File);
        Assert.Contains("valid keys: optimizer, lr,", e.Message);
    }

    [Fact]
    public void BadPaths_AreReportedAndTheRestStillChecked()
    {
        var result = RecipeLoader.Load(Valid, ["stages.7.name=x", "train.lr.max=1", "stages.first.name=x", "nokey", "train.lr=[1"]);
        var errors = result.Errors;
        Assert.True(errors.Count == 5, string.Join("\n", errors));
        Assert.Equal("--set stages.7.name=x", errors[0].File);
        Assert.Equal("stages[7]", errors[0].KeyPath);
        Assert.Contains("index 7 is out of range: stages has 3 entries (0 to 2)", errors[0].Message);
        Assert.Equal("train.lr.max", errors[1].KeyPath);
        Assert.Contains("train.lr is a single value ('1e-3'), so it has no key 'max'", errors[1].Message);
        Assert.Contains("'first' is not an index: stages is a list", errors[2].Message);
        Assert.Contains("expected --set key.path=value", errors[3].Message);
        Assert.Contains("the value is not valid YAML", errors[4].Message);
    }

    [Fact]
    public void FileAndOverrideErrors_AreReportedTogether()
    {
        var result = RecipeLoader.Load(Path("broken/wrong_scalar_type.yaml"), ["train.batch_size=0"]);
        Assert.Equal(2, result.Errors.Count);
        At(result.Errors[0], 10, 7, "train.lr", "got 'abc'");
        At(result.Errors[1], 0, 0, "train.batch_size", "expected an integer >= 1 and <= 65536, got 0");
        Assert.Equal("--set train.batch_size=0", result.Errors[1].File);
    }

    [Fact]
    public void UnknownDataset_ListsTheKnownOnes()
    {
        var result = RecipeLoader.Load(Valid, ["data.dataset=imagenet"]);
        var e = Single(result.Errors, 0, 0, "data.dataset", "unknown dataset 'imagenet'; expected one of ");
        Assert.Contains("mnist", e.Message);
    }

    [Fact]
    public void StageWithoutTrainingLength_IsReportedPerStage()
    {
        // mlp_defaults.yaml gives epochs only in the top-level train: (line 15); without it no stage has a length.
        var result = RecipeLoader.Load(Path("valid/mlp_defaults.yaml"), ["train.epochs=~"]);
        Assert.Equal(2, result.Errors.Count);
        At(result.Errors[0], 15, 3, "train", "stage 'train_teacher' has no training length: set exactly one of epochs or steps");
        At(result.Errors[1], 15, 3, "train", "stage 'distill' has no training length");
    }
}
