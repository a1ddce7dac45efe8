using Distill.Compression.Allocation;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages.Results;
using Distill.Stages;
using Xunit;

namespace Distill.Tests.Compression;

public class BudgetAllocationTests
{
    [Fact]
    public void Solve_FindsTheBruteForceOptimum()
    {
        var rng = new Random(40);
        for (int trial = 0; trial < 200; trial++)
        {
            int layers = rng.Next(1, 5);
            var options = Enumerable.Range(0, layers).Select(_ => (IReadOnlyList<LayerOption>)Enumerable.Range(0, rng.Next(1, 5))
                .Select(b => new LayerOption(SparsityChoice.Keep, b + 1, rng.Next(1, 100), rng.NextDouble() * 10 - 1)).ToList()).ToList();
            long budget = rng.Next(1, 300);
            // Brute force over every combination.
            double best = double.PositiveInfinity;
            void Walk(int l, long bytes, double sens)
            {
                if (bytes > budget) return;
                if (l == layers) { best = Math.Min(best, sens); return; }
                foreach (var o in options[l]) Walk(l + 1, bytes + o.Bytes, sens + o.Sensitivity);
            }
            Walk(0, 0, 0);
            var choice = BudgetAllocation.Solve(options, budget);
            if (double.IsPositiveInfinity(best)) { Assert.Null(choice); continue; }
            Assert.NotNull(choice);
            Assert.True(choice!.Select((c, l) => options[l][c].Bytes).Sum() <= budget);
            Assert.Equal(best, choice.Select((c, l) => options[l][c].Sensitivity).Sum(), 9);
        }
    }

    [Fact]
    public void PtqUnderTargetBytes_ExportFitsTheBudget_AndAnImpossibleBudgetIsAClearError()
    {
        // fp32 784-32-16-10 is 102,760 bytes; 8-bit everything would be about a quarter.
        var ptq = new QuantizeStageSpec { Method = QuantizeMethod.Ptq, TargetBytes = 16000, SensitivityBatches = 2 };
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec(), ptq, new ExportStageSpec()], steps: 20);
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var summary = new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute();
            var q = summary.Stages.OfType<QuantizeResult>().Single();
            var export = summary.Stages.OfType<ExportResult>().Single();
            var allocation = q.Allocation!;
            long artifact = (long)export.ArtifactBytes;
            Assert.True(artifact <= 16000, $"artifact {artifact} bytes > target 16000");
            Assert.Equal((long)allocation.PredictedBytes, artifact); // PTQ: the allocation's sizes are exact
            var bits = (Dictionary<string, int>)q.LayerBits;
            Assert.True(bits["layers.0.weight"] < 8, "784x32 is most of the bytes: it cannot stay at 8 bits under 16 kB");
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }

        var tooSmall = CompressionTestRecipes.TinyMlp(
            [new BaselineStageSpec(), new QuantizeStageSpec { Method = QuantizeMethod.Ptq, TargetBytes = 500, SensitivityBatches = 1 }], steps: 5);
        dir = CompressionTestRecipes.TempDir();
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() =>
                new RunExecutor { Recipe = tooSmall, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute());
            Assert.Contains("target_bytes 500 cannot be met", e.Message);
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }
}
