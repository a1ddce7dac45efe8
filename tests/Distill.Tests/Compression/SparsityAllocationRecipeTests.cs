using Distill.Compression.Allocation;
using Distill.Compression.Pruning;
using Distill.Recipes;
using Distill.Stages;
using Xunit;

namespace Distill.Tests.Compression;

/// <summary>The allocation's recipe keys (<c>candidate_sparsity</c>, <c>target_ratio</c>) bind, and bad values are
/// errors at their keys. Serial: the full check builds the models on the meta device (a process-wide switch).</summary>
[Collection(SerialCollection.Name)]
public class SparsityAllocationRecipeTests
{
    [Fact]
    public void RecipeKeys_BindAndBadValuesAreErrorsAtTheirPlace()
    {
        string path = CompressionTestRecipes.WriteMlpRecipe("""
              - kind: quantize
                method: qat
                target_ratio: 10
                candidate_sparsity: [0, "2:4", 0.75]
                candidate_bits: [2, 4]
            """);
        var (recipe, errors) = RecipeValidation.Check(path);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        var q = Assert.IsType<QuantizeStageSpec>(recipe!.Stages[1]);
        Assert.Equal([SparsityChoice.Keep, SparsityChoice.Nm(new NmPattern(2, 4)), SparsityChoice.Unstructured(0.75)], q.CandidateSparsity);
        Assert.Equal(102760 / 10, q.Budget(102760));
        Directory.Delete(Path.GetDirectoryName(path)!, true);

        path = CompressionTestRecipes.WriteMlpRecipe("""
              - kind: quantize
                method: qat
                target_ratio: 10
                candidate_sparsity: [1.5, "4:2", dense]
              - kind: quantize
                name: second
                target_ratio: 10
                target_bytes: 9000
              - kind: quantize
                name: third
                candidate_sparsity: [0.5]
            """);
        var messages = RecipeLoader.Load(path).Errors.Select(e => $"{e.Line}:{e.KeyPath}: {e.Message}").ToList();
        Assert.Contains(messages, m => m.StartsWith("17:stages[1].candidate_sparsity[0]: expected a sparsity fraction in [0, 1)", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("17:stages[1].candidate_sparsity[1]: N:M needs 1 <= N < M", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("17:stages[1].candidate_sparsity[2]: expected a sparsity fraction", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("stages[2].target_ratio: give the budget once", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("stages[3].candidate_sparsity: candidate_sparsity is used by the automatic allocation", StringComparison.Ordinal));
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }
}
