using Distill.Recipes;
using Xunit;

namespace Distill.Tests.Compression;

/// <summary>How <c>kind: weightless</c> binds and where its errors point.</summary>
public class WeightlessRecipeTests
{
    [Fact]
    public void WeightlessStage_Binds()
    {
        string path = CompressionTestRecipes.WriteMlpRecipe("""
              - kind: weightless
                layers: [layers.0]
                bits: 5
                layer_bits: {layers.0: 4}
                cells_per_key: 1.3
                hash_seed: 7
            """);
        var (recipe, errors) = RecipeValidation.Check(path);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        var w = Assert.IsType<WeightlessStageSpec>(recipe!.Stages[1]);
        Assert.Equal(["layers.0"], w.Layers);
        Assert.Equal((5, 4, 1.3, 7L), (w.Bits, w.BitsFor("layers.0"), w.CellsPerKey, w.HashSeed));
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }

    [Fact]
    public void UnknownKeys_MissingLayers_AndOutOfRangeValues_AreErrors()
    {
        string path = CompressionTestRecipes.WriteMlpRecipe("""
              - kind: weightless
                bitz: 5
              - kind: weightless
                layers: [layers.0]
                cells_per_key: 1.1
            """);
        var (_, errors) = RecipeValidation.Check(path);
        string all = string.Join("\n", errors);
        Assert.Contains("bitz", all);
        Assert.Contains("cells_per_key", all); // the unknown key's error lists the valid ones
        Assert.Contains("stages[1].layers", all);
        Assert.Contains("1.1", all);
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }

    [Fact]
    public void APatternMatchingNoModule_IsAnError()
    {
        string path = CompressionTestRecipes.WriteMlpRecipe("""
              - kind: weightless
                layers: [nothing.here]
            """);
        var (_, errors) = RecipeValidation.Check(path);
        string all = string.Join("\n", errors);
        Assert.Contains("nothing.here", all);
        Assert.Contains("layers.0", all); // the nearest module paths
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }
    [Fact]
    public void Bf16OrAutoPrecision_IsAnErrorAtTheStagesTrainKey()
    {
        foreach (string precision in new[] { "bf16", "auto" })
        {
            string path = CompressionTestRecipes.WriteMlpRecipe($$"""
                  - kind: weightless
                    layers: [layers.0]
                    train: {precision: {{precision}}}
                """);
            var (_, errors) = RecipeValidation.Check(path);
            var e = Assert.Single(errors);
            Assert.Contains("stages[1].train.precision", e.ToString());
            Assert.Contains($"fp32 only", e.ToString());
            Assert.Contains($"not {precision}", e.ToString());
            Directory.Delete(Path.GetDirectoryName(path)!, true);
        }
    }
}
