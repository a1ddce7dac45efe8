using Distill.Compression.Pruning;
using Distill.Recipes;
using Distill.Stages;
using Distill.Tests.Recipes;
using Xunit;

namespace Distill.Tests.Compression;

/// <summary>A prune stage's own checks are reported like any recipe error: at the key, before anything trains.</summary>
[Collection(SerialCollection.Name)]
public class PruneRecipeTests
{
    [Fact]
    public void ValidPruneStage_Binds()
    {
        string path = CompressionTestRecipes.WriteMlpRecipe("""
              - kind: prune
                method: nm
                pattern: "2:4"
                exclude: ["classifier", "layers.1"]
            """);
        var (recipe, errors) = RecipeValidation.Check(path);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        var prune = Assert.IsType<PruneStageSpec>(recipe!.Stages[1]);
        Assert.Equal(new NmPattern(2, 4), prune.Pattern);
        Assert.Equal(PruneMethod.NM, prune.Method);
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }

    [Fact]
    public void CrossKeyProblems_AreReportedAtTheirKeys()
    {
        string path = CompressionTestRecipes.WriteMlpRecipe("""
              - kind: prune
                method: nm
                sparsity: 0.5
              - kind: prune
                name: gradual
                sparsity: 0.8
                schedule:
                  end_step: 50
            """);
        var loaded = RecipeLoader.Load(path);
        var messages = loaded.Errors.Select(e => $"{e.Line}:{e.KeyPath}: {e.Message}").ToList();
        Assert.Contains(messages, m => m.StartsWith("14:stages[1].pattern: method: nm needs a pattern", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("16:stages[1].sparsity: method: nm sets the sparsity", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("21:stages[2].schedule.end_step: end_step (50) is beyond the stage's 10 training steps", StringComparison.Ordinal));
        Assert.Equal(3, messages.Count);
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }

    [Fact]
    public void PatternMatchingNoModule_IsAValidationError()
    {
        string path = CompressionTestRecipes.WriteMlpRecipe("""
              - kind: prune
                sparsity: 0.5
                include: ["encoder.*"]
            """);
        var (_, errors) = RecipeValidation.Check(path);
        var e = RecipeFixtures.Single(errors, 16, 15, "stages[1].include[0]", "pattern 'encoder.*' matches no module of the student");
        Assert.Contains("layers.0", e.Message);
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }
}
