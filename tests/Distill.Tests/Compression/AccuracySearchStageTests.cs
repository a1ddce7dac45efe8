using Distill.Compression.Quantization;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages.Results;
using Xunit;

namespace Distill.Tests.Compression;

/// <summary>The quantize stage's target-accuracy mode (<c>max_accuracy_drop</c>) on tiny MLPs.</summary>
public class AccuracySearchStageTests
{
    [Fact]
    public void Search_KeepsTheSmallestEvaluationWithinTheDrop_AndReportsEveryEvaluation()
    {
        var quantize = new QuantizeStageSpec
        {
            Method = QuantizeMethod.Kmeans, MaxAccuracyDrop = 100, MaxEvaluations = 3, CandidateBits = [1, 4], SensitivityBatches = 1,
            Train = new TrainSpec { Steps = 2, BatchSize = 32, Lr = 1e-3, Seed = 11, HistogramEvery = null },
        };
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec(), quantize, new ExportStageSpec()], steps: 6);
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var summary = new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute();
            var q = summary.Stages.OfType<QuantizeResult>().Single();
            var s = q.AccuracySearch!;
            Assert.Equal(3, s.Evaluations.Count);
            Assert.Equal(s.LargestBytes, s.Evaluations[0].BudgetBytes);
            Assert.True(s.SmallestBytes < s.LargestBytes);
            // A drop of 100 points admits every evaluation: each halving moves down, the last is the smallest.
            Assert.All(s.Evaluations, e => Assert.True(e.Within));
            Assert.True(s.Met);
            var smallest = s.Evaluations.MinBy(e => e.ArtifactBytes)!;
            Assert.Equal(smallest.BudgetBytes, s.ChosenBudget);
            Assert.True(smallest.ArtifactBytes <= smallest.BudgetBytes + 64, $"{smallest.ArtifactBytes} bytes for a budget of {smallest.BudgetBytes}");
            // The stage's student is the kept evaluation's: the export writes exactly its artifact.
            var export = summary.Stages.OfType<ExportResult>().Single();
            Assert.Equal(smallest.ArtifactBytes, export.ArtifactBytes);
            Assert.Equal(smallest.Accuracy, export.Metrics["accuracy"], 9);
            Assert.Empty(Directory.GetFiles(Path.Combine(dir, "artifacts", "quantize"), "search-*"));
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }

    [Fact]
    public void MaxAccuracyDrop_WithATarget_IsARecipeError()
    {
        var spec = new QuantizeStageSpec { MaxAccuracyDrop = 0.3, TargetRatio = 10 };
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec(), spec]);
        Assert.Contains(spec.Check(recipe), p => p.Key == "max_accuracy_drop" && p.Message.Contains("target_ratio"));
        var qat = new QuantizeStageSpec { MaxAccuracyDrop = 0.3, Method = QuantizeMethod.Qat };
        Assert.Contains(qat.Check(recipe), p => p.Key == "max_accuracy_drop" && p.Message.Contains("kmeans"));
    }
}
