using System.Text.Json;
using Distill.Bench;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Vit;
using Distill.Recipes;
using Distill.Tests;
using Xunit;

namespace Distill.Bench.Tests;

/// <summary>
/// The bench workloads are the shipped recipes' distill stages: same teacher and student configs, data, optimiser and
/// loss terms, except for the differences each workload declares (student dropout, fixed padding, warm-up).
/// </summary>
public class BenchWorkloadTests
{
    private static Recipe Load(string relative)
    {
        var loaded = RecipeLoader.Load(Path.Combine(TestPaths.RepoRoot, relative));
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        return loaded.Recipe!;
    }

    /// <summary>Configs as JSON (records with list members, such as the CNN's channels, compare lists by reference).</summary>
    private static string Json(IModelConfig? config) => config is null ? "null" : JsonSerializer.Serialize(config, config.GetType());

    [Fact]
    public void TheWorkloadsAreQuickstartBertSst2AndVitCifar10()
    {
        Assert.Equal(["quickstart", "bert-sst2", "vit-cifar10"], BenchWorkload.All.Select(w => w.Name));
        Assert.Same(BenchWorkload.BertSst2, BenchWorkload.Get("bert-sst2"));
        var e = Assert.Throws<ArgumentException>(() => BenchWorkload.Get("bert"));
        Assert.Contains("quickstart, bert-sst2, vit-cifar10", e.Message);
    }

    [Theory]
    [InlineData("quickstart")]
    [InlineData("bert-sst2")]
    [InlineData("vit-cifar10")]
    public void TeacherDataOptimiserAndTermsAreTheRecipes(string name)
    {
        var w = BenchWorkload.Get(name);
        var recipe = Load(w.Recipe);
        Assert.Equal(recipe.Teacher.Model, w.TeacherFamily);
        Assert.Equal(Json(recipe.Teacher.Config), Json(w.TeacherConfig));
        Assert.Equal(recipe.Student.Model, w.StudentFamily);
        // bert-sst2.yaml reads SST-2 as text_classification with the preset's settings, which gives the sst2 preset's
        // examples bit for bit (Distill.Tests PresetsOnGenericKindsTests); the bench reads it as the preset.
        bool sst2AsTable = recipe.Data is { Dataset: "text_classification", TextColumn: "sentence", TextUnescape: Distill.Text.TextUnescape.Ptb }
                           && recipe.Data.RenameColumns is { Count: 1 } rename && rename.GetValueOrDefault("content") == "sentence";
        Assert.Equal(w.Dataset, sst2AsTable ? "sst2" : recipe.Data.Dataset);
        Assert.Equal(recipe.Data.EvalSplit, w.EvalSplit);
        Assert.Equal(recipe.Data.Preprocessing.Mean ?? [], w.Mean);
        Assert.Equal(recipe.Data.Preprocessing.Std ?? [], w.Std);
        Assert.Equal(Path.GetFullPath(Path.Combine(TestPaths.RepoRoot, w.DataFolder)), Path.GetFullPath(recipe.Data.Path));
        if (recipe.Data.Tokenizer is { } tokenizer)
        {
            Assert.Equal(Path.GetFullPath(Path.Combine(TestPaths.RepoRoot, w.TokenizerFolder!)), Path.GetFullPath(tokenizer));
            Assert.Equal(recipe.Data.MaxLength, w.MaxLength);
        }
        Assert.Equal(recipe.Distill.Terms, w.Terms);
        var t = recipe.Train;
        Assert.Equal((t.Optimizer, t.Lr, t.WeightDecay, t.Schedule, t.BatchSize, t.GradClip, t.Seed),
            (w.Train.Optimizer, w.Train.Lr, w.Train.WeightDecay, w.Train.Schedule, w.Train.BatchSize, w.Train.GradClip, w.Train.Seed));
    }

    [Fact]
    public void QuickstartIsTheRecipeAsItIs()
    {
        var recipe = Load(BenchWorkload.Quickstart.Recipe);
        Assert.Equal(Json(recipe.Student.Config), Json(BenchWorkload.Quickstart.StudentConfig));
        Assert.Equal(recipe.Train.WarmupSteps, BenchWorkload.Quickstart.Train.WarmupSteps);
    }

    [Fact]
    public void BertStudentDiffersFromTheRecipeOnlyByItsDropout()
    {
        var recipe = Load(BenchWorkload.BertSst2.Recipe);
        var fromRecipe = (BertConfig)recipe.Student.Config!;
        Assert.Equal(0.1, fromRecipe.HiddenDropoutProb);
        Assert.Equal(fromRecipe with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 }, BenchWorkload.BertSst2.StudentConfig);
        Assert.Contains("dropout 0", BenchWorkload.BertSst2.Differences);
    }

    [Fact]
    public void VitStudentIsTheRecipes()
    {
        var recipe = Load(BenchWorkload.VitCifar10.Recipe);
        Assert.Equal(Json(recipe.Student.Config), Json(BenchWorkload.VitCifar10.StudentConfig));
        var student = (ViTConfig)BenchWorkload.VitCifar10.StudentConfig;
        Assert.Equal(0, student.HiddenDropoutProb);
        Assert.Equal(0, student.AttentionProbsDropoutProb);
    }

    [Theory]
    [InlineData("bert-sst2")]
    [InlineData("vit-cifar10")]
    public void ShortenedWarmUpIsDeclared(string name)
    {
        var w = BenchWorkload.Get(name);
        var recipe = Load(w.Recipe);
        Assert.True(w.Train.WarmupSteps < recipe.Train.WarmupSteps);
        Assert.Contains($"{w.Train.WarmupSteps} warm-up steps (recipe: {recipe.Train.WarmupSteps})", w.Differences);
    }

    [Theory]
    [InlineData("bert-sst2")]
    [InlineData("vit-cifar10")]
    public void DefaultsGiveWholeEpochsOfAtLeastTwentySteps(string name)
    {
        // Step-time medians skip the first 10 steps, and the cache row needs epochs after the first.
        var w = BenchWorkload.Get(name);
        Assert.True(w.Epochs >= 2);
        Assert.NotNull(w.TrainLimit);
        Assert.Equal(0, w.TrainLimit!.Value % w.Train.BatchSize);
        Assert.True(w.TrainLimit.Value / w.Train.BatchSize * w.Epochs >= 20);
        Assert.True(w.RssSteps >= 5 * w.RssEvery, "the RSS run needs several samples after its first 10 %");
    }
}
