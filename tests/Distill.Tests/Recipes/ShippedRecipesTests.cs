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
}
