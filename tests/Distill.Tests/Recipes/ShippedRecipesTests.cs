using Distill.Recipes;
using Xunit;

namespace Distill.Tests.Recipes;

/// <summary>
/// Every recipe shipped in <c>recipes/</c> passes the full pre-flight check that <c>distill run</c> performs
/// (<see cref="RecipeValidation.Check"/>: binding, dataset files, module paths, one-example shape probe of both models
/// and of every loss term), runs on the data shipped in <c>data/</c>, and produces the three numbers a recipe
/// reports: teacher, baseline student and distilled student. Nothing is trained here.
/// </summary>
[Collection(SerialCollection.Name)]
public class ShippedRecipesTests
{
    private static readonly string RecipesDir = Path.Combine(TestPaths.RepoRoot, "recipes");

    public static TheoryData<string> Recipes()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(RecipesDir, "*.yaml").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Fact]
    public void TheRecipesOfTheRealDatasetsAreShipped()
    {
        var names = Directory.EnumerateFiles(RecipesDir, "*.yaml").Select(Path.GetFileName).ToHashSet();
        foreach (var expected in new[] { "quickstart.yaml", "bert-sst2.yaml", "vit-cifar10.yaml", "wav2vec2-fsdd.yaml" })
            Assert.Contains(expected, names);
    }

    [Theory]
    [MemberData(nameof(Recipes))]
    public void PassesValidation(string file)
    {
        var (recipe, errors) = RecipeValidation.Check(Path.Combine(RecipesDir, file));
        Assert.True(errors.Count == 0, $"{file}:\n" + string.Join("\n", errors));
        Assert.NotNull(recipe);
    }

    /// <summary>The recipes whose job is the teacher / baseline / distilled comparison (compression and design recipes
    /// have other stages).</summary>
    public static TheoryData<string> ComparisonRecipes() =>
        ["quickstart.yaml", "vit-mnist-tinybert.yaml", "bert-sst2.yaml", "vit-cifar10.yaml", "wav2vec2-fsdd.yaml"];

    [Theory]
    [MemberData(nameof(ComparisonRecipes))]
    public void UsesTheShippedDataAndReportsTeacherBaselineAndDistilledStudent(string file)
    {
        var (recipe, errors) = RecipeValidation.Check(Path.Combine(RecipesDir, file));
        Assert.True(errors.Count == 0, $"{file}:\n" + string.Join("\n", errors));
        string shipped = Path.GetFullPath(Path.Combine(TestPaths.RepoRoot, "data")) + Path.DirectorySeparatorChar;
        Assert.StartsWith(shipped, Path.GetFullPath(recipe!.Data.Path) + Path.DirectorySeparatorChar);
        if (recipe.Data.Tokenizer is { } tokenizer) Assert.StartsWith(shipped, Path.GetFullPath(tokenizer) + Path.DirectorySeparatorChar);

        var kinds = recipe.Stages.Select(s => s.Kind).ToList();
        Assert.True(recipe.Teacher.Checkpoint is not null || kinds.Contains("train_teacher"), $"{file}: no teacher (train_teacher stage or teacher.checkpoint)");
        Assert.Contains("baseline", kinds);
        Assert.Contains("distill", kinds);
        Assert.NotEmpty(recipe.Distill.Terms);
    }

    /// <summary>recipes/bert-sst2-heads.yaml reports its distill accuracy as comparable with bert-sst2's: its models,
    /// data, loss terms and training settings must stay byte-identical to that recipe's, and its prune stage must be the
    /// structured head + FFN pruning its header describes.</summary>
    [Fact]
    public void BertHeadsRecipe_IsTheBertSst2PipelineFollowedByStructuredHeadAndFfnPruning()
    {
        static string Sections(string file)
        {
            string text = File.ReadAllText(Path.Combine(RecipesDir, file)).ReplaceLineEndings("\n");
            int start = text.IndexOf("\nteacher:", StringComparison.Ordinal), end = text.IndexOf("\nstages:", StringComparison.Ordinal);
            Assert.True(start >= 0 && end > start, $"{file}: no teacher ... stages sections");
            return text[start..end];
        }
        Assert.Equal(Sections("bert-sst2.yaml"), Sections("bert-sst2-heads.yaml"));

        var loaded = RecipeLoader.Load(Path.Combine(RecipesDir, "bert-sst2-heads.yaml"));
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        var recipe = loaded.Recipe!;
        Assert.Equal(["train_teacher", "distill", "prune"], recipe.Stages.Select(s => s.Kind).ToList());
        var prune = recipe.Stages.OfType<Distill.Stages.PruneStageSpec>().Single();
        Assert.Equal(Distill.Compression.Pruning.PruneMethod.Structured, prune.Method);
        Assert.Equal([Distill.Compression.Pruning.PruneUnit.Heads, Distill.Compression.Pruning.PruneUnit.Ffn], prune.Units);
        Assert.Equal(Distill.Compression.Pruning.UnitScore.Taylor, prune.Score);
        Assert.True(prune.FineTune);
        Assert.NotEqual(Distill.Compression.FineTuneObjective.Ce, prune.Objective);
    }
}
