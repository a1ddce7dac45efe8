using Distill.Losses;
using Distill.Models.Cnn;
using Distill.Models.Mlp;
using Distill.Recipes;
using Distill.Training;
using Distill.Stages;
using Xunit;
using static Distill.Tests.Recipes.RecipeFixtures;

namespace Distill.Tests.Recipes;

/// <summary>
/// Loading and recipe-level checks (no model is built here). Each broken fixture has one deliberate mistake whose
/// line, column and key path are read off the fixture file.
/// </summary>
public class RecipeLoaderTests
{
    private static IReadOnlyList<RecipeError> Errors(string fixture, params string[] overrides)
    {
        var result = RecipeLoader.Load(Path(fixture), overrides);
        Assert.False(result.Succeeded);
        Assert.Null(result.Recipe);
        Assert.All(result.Errors.Where(e => e.Line > 0), e => Assert.Equal(Path(fixture), e.File));
        return result.Errors;
    }

    [Fact]
    public void UnknownTopLevelKey_SuggestsTheCloseOne()
    {
        var e = Single(Errors("broken/unknown_top_level_key.yaml"), 8, 1, "trian", "unknown key 'trian' (did you mean 'train'?)");
        Assert.Contains("valid keys: teacher, student, data, distill, train, output, stages", e.Message);
        Assert.Equal($"{Path("broken/unknown_top_level_key.yaml")}:8:1: trian: {e.Message}", e.ToString());
    }

    [Fact]
    public void UnknownNestedKey_SuggestsTheCloseOne() =>
        Single(Errors("broken/unknown_nested_key.yaml"), 10, 3, "train.warmup_step", "unknown key 'warmup_step' (did you mean 'warmup_steps'?)");

    [Fact]
    public void WrongScalarType_SaysWhatIsExpected() =>
        Single(Errors("broken/wrong_scalar_type.yaml"), 10, 7, "train.lr", "expected a number > 0 and <= 10, got 'abc'");

    [Fact]
    public void OutOfRange_StatesTheRange() =>
        Single(Errors("broken/out_of_range.yaml"), 10, 15, "train.batch_size", "expected an integer >= 1 and <= 65536, got 0");

    [Fact]
    public void MissingDataFolder_NamesTheResolvedPath()
    {
        string resolved = System.IO.Path.Combine(TestPaths.RepoRoot, "data", "no_such_dataset");
        Single(Errors("broken/missing_data_folder.yaml"), 7, 9, "data.path", $"folder not found: {resolved}");
    }

    [Fact]
    public void UnknownModelFamily_ListsTheValidOnes()
    {
        var e = Single(Errors("broken/unknown_model_family.yaml"), 2, 10, "teacher.model", "unknown model 'resnet50'");
        Assert.Contains("cnn", e.Message);
        Assert.Contains("mlp", e.Message);
    }

    [Fact]
    public void UnknownStageKind_SuggestsTheCloseOne()
    {
        var e = Single(Errors("broken/unknown_stage_kind.yaml"), 15, 11, "stages[1].kind", "unknown kind 'distil' (did you mean 'distill'?)");
        Assert.Contains(string.Join(", ", Distill.Recipes.StageSpecRegistry.Default.Keys.Order()), e.Message); // every registered kind, sorted
    }

    [Fact]
    public void UnknownLossKind_ListsTheValidOnes()
    {
        var e = Single(Errors("broken/unknown_loss_kind.yaml"), 11, 13, "distill.terms[1].kind", "unknown kind 'kd_loss'");
        foreach (var kind in LossRegistry.Default.Keys) Assert.Contains(kind, e.Message);
    }

    [Fact]
    public void DistillWithoutTeacher_SaysHowToGetOne() =>
        Single(Errors("broken/distill_without_teacher.yaml"), 15, 11, "stages[1].kind", "a distill stage needs a teacher: add a 'kind: train_teacher' stage before it, or set teacher.checkpoint");

    [Fact]
    public void TrainTeacherAndCheckpoint_SaysWhichToRemove() =>
        Single(Errors("broken/teacher_checkpoint_and_training.yaml"), 15, 11, "stages[0].kind",
            "a train_teacher stage and teacher.checkpoint (line 3) are both given: remove this stage");

    [Fact]
    public void DistillWithoutTerms_IsAnError() =>
        Single(Errors("broken/distill_without_terms.yaml"), 12, 11, "stages[1].kind", "needs at least one loss term in distill.terms");

    [Fact]
    public void EpochsAndSteps_AreExclusive() =>
        Single(Errors("broken/epochs_and_steps.yaml"), 11, 10, "train.steps", "both steps and epochs (train.epochs, line 10) are set");

    [Fact]
    public void DuplicateStageNames_PointAtTheSecond() =>
        Single(Errors("broken/duplicate_stage_names.yaml"), 14, 11, "stages[1].name", "stage name 'student_run' is already used by stages[0]");

    [Fact]
    public void DuplicateKey_IsReportedWithTheFirstLine() =>
        Single(Errors("broken/duplicate_key.yaml"), 11, 3, "train.lr", "duplicate key 'lr' (first given at line 10)");

    [Fact]
    public void YamlSyntaxError_HasLineAndColumn() =>
        Single(Errors("broken/yaml_syntax_error.yaml"), 7, 8, "", "invalid YAML");

    [Fact]
    public void YamlTag_IsRejected() =>
        Single(Errors("broken/yaml_tag.yaml"), 3, 10, "student", "YAML tags such as '!import' are not supported");

    [Fact]
    public void SeveralErrors_AreAllReportedInFileOrder()
    {
        var errors = Errors("broken/several_errors.yaml");
        Assert.True(errors.Count == 4, string.Join("\n", errors));
        At(errors[0], 5, 18, "teacher.config.hidden_size", "must be at least 1");
        At(errors[1], 9, 14, "student.config.dropout", "expected a number, got 'high'");
        At(errors[2], 15, 14, "train.optimizer", "expected one of adamw, sgd, got 'adam' (did you mean 'adamw'?)");
        At(errors[3], 19, 19, "stages[0].train.batch_size", "expected an integer >= 1 and <= 65536, got 100000");
    }

    [Fact]
    public void ConfigValidateAndDevice_AreReportedAtTheirKeys()
    {
        var errors = Errors("broken/config_problem.yaml");
        Assert.True(errors.Count == 3, string.Join("\n", errors));
        // image_size is not in the config mapping, so the error sits at the mapping (its first key, line 4).
        At(errors[0], 4, 5, "teacher.config.image_size", "too small for 6 blocks");
        At(errors[1], 8, 19, "student.config.hidden_sizes", "needs at least one hidden layer");
        At(errors[2], 14, 11, "train.device", "expected cpu, cuda or cuda:N");
    }

    [Fact]
    public void MoreMicroBatchesThanExamples_IsAnErrorAtGradAccumSteps()
    {
        var errors = Errors("valid/mlp_defaults.yaml", "train.batch_size=4", "train.grad_accum_steps=5");
        Assert.True(errors.Count == 1, string.Join("\n", errors));
        Assert.Equal("train.grad_accum_steps", errors[0].KeyPath);
        Assert.Contains("at most 4", errors[0].Message);
        Assert.True(RecipeLoader.Load(Path("valid/mlp_defaults.yaml"), ["train.batch_size=4", "train.grad_accum_steps=4"]).Succeeded);
        Assert.Contains(">= 1", Errors("valid/mlp_defaults.yaml", "train.grad_accum_steps=0")[0].Message);
    }

    [Fact]
    public void MissingFile_IsOneErrorWithoutLine()
    {
        string path = Path("broken/does_not_exist.yaml");
        var result = RecipeLoader.Load(path, []);
        var e = Single(result.Errors, 0, 0, "", "recipe file not found");
        Assert.Equal(path, e.File);
    }

    [Fact]
    public void ValidRecipe_BindsEveryValueAndMergesStageTrain()
    {
        var result = RecipeLoader.Load(Path("valid/mnist_hint.yaml"), []);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var r = result.Recipe!;

        var teacher = Assert.IsType<CnnConfig>(r.Teacher.Config);
        Assert.Equal([32, 64], teacher.Channels);
        Assert.Equal(128, teacher.HiddenSize);
        Assert.Equal(28, teacher.ImageSize); // omitted: family default
        var student = Assert.IsType<CnnConfig>(r.Student.Config);
        Assert.Equal([8, 16], student.Channels);
        Assert.Equal(0.1, student.Dropout);

        Assert.Equal(System.IO.Path.Combine(TestPaths.RepoRoot, "data", "mnist"), r.Data.Path);
        Assert.True(System.IO.Path.IsPathRooted(r.Data.Path));
        Assert.Equal(2000, r.Data.TrainLimit);
        Assert.Equal([0.1307], r.Data.Preprocessing.Mean);

        Assert.Equal(2, r.Distill.Terms.Count);
        var soft = Assert.IsType<SoftTargetSpec>(r.Distill.Terms[0]);
        Assert.Equal((4.0, 0.9, "soft_target"), (soft.Temperature, soft.Alpha, soft.DisplayName));
        var hint = Assert.IsType<HintSpec>(r.Distill.Terms[1]);
        Assert.Equal(("hint_block1", "blocks.1", "blocks.1", 0.5), (hint.DisplayName, hint.Student, hint.Teacher, hint.Weight));

        Assert.Equal(OptimizerKind.Adamw, r.Train.Optimizer);
        Assert.Equal(1e-3, r.Train.Lr);
        Assert.Equal(2.0, r.Train.Epochs);

        Assert.IsType<TrainTeacherStageSpec>(r.Stages[0]);
        Assert.IsType<BaselineStageSpec>(r.Stages[1]);
        Assert.IsType<DistillStageSpec>(r.Stages[2]);
        Assert.Equal(["train_teacher", "student_baseline", "distill"], r.Stages.Select(s => s.DisplayName));
        // Stage 0 overrides lr only; stage 1 inherits everything; stage 2 sets steps, which replaces the inherited epochs.
        Assert.Equal((2e-3, 2.0, (int?)null, 128), (r.Stages[0].Train!.Lr, r.Stages[0].Train!.Epochs, r.Stages[0].Train!.Steps, r.Stages[0].Train!.BatchSize));
        Assert.Equal(r.Train, r.Stages[1].Train);
        Assert.Equal((1e-3, (double?)null, (int?)500, 50, 128), (r.Stages[2].Train!.Lr, r.Stages[2].Train!.Epochs, r.Stages[2].Train!.Steps, r.Stages[2].Train!.WarmupSteps, r.Stages[2].Train!.BatchSize));

        Assert.Equal(("runs/mnist_hint", false), (r.Output.Dir, r.Output.Tensorboard));
    }

    [Fact]
    public void OmittedConfig_TakesFamilyDefaults()
    {
        var result = RecipeLoader.Load(Path("valid/mlp_defaults.yaml"), []);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var teacher = Assert.IsType<MlpConfig>(result.Recipe!.Teacher.Config);
        Assert.Equal(new MlpConfig().HiddenSizes, teacher.HiddenSizes);
        Assert.Equal([150, 50], Assert.IsType<MlpConfig>(result.Recipe.Student.Config).HiddenSizes);
    }
}
