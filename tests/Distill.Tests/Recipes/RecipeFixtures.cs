using Distill.Recipes;
using Xunit;

namespace Distill.Tests.Recipes;

/// <summary>Recipe fixtures are read from the source tree so their relative data paths (../../../../../data/mnist) resolve.</summary>
internal static class RecipeFixtures
{
    public static string Path(string relative) =>
        System.IO.Path.Combine(TestPaths.RepoRoot, "tests", "Distill.Tests", "Fixtures", "recipes", relative);

    /// <summary>Asserts that <paramref name="errors"/> holds exactly one error, at the given place, containing <paramref name="fragment"/>.</summary>
    public static RecipeError Single(IReadOnlyList<RecipeError> errors, int line, int column, string keyPath, string fragment)
    {
        Assert.True(errors.Count == 1, $"expected one error, got {errors.Count}:\n{string.Join("\n", errors)}");
        return At(errors[0], line, column, keyPath, fragment);
    }

    public static RecipeError At(RecipeError error, int line, int column, string keyPath, string fragment)
    {
        Assert.Equal((line, column, keyPath), (error.Line, error.Column, error.KeyPath));
        Assert.Contains(fragment, error.Message);
        return error;
    }
}
