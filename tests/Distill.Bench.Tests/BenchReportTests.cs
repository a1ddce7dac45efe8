using Distill.Bench;
using Xunit;

namespace Distill.Bench.Tests;

/// <summary>The rows of the bench table from synthetic runs with hand-computed medians, ratios and growth.</summary>
public class BenchReportTests
{
    /// <summary>12 steps: six warm-up steps of 9 s (skipped: min(10, 12 / 2) = 6), then six of the given time.</summary>
    private static BenchResult Run(string side, string variant, double stepMs, double rss, double finalLoss, int rep, string tag = "main") => new()
    {
        Side = side, Variant = variant, Rep = rep, Tag = tag,
        StepSeconds = [9, 9, 9, 9, 9, 9, .. Enumerable.Repeat(stepMs / 1000, 6)],
        EpochSeconds = [1.0, 2.0, 3.0],
        Losses = [.. Enumerable.Repeat(100.0, 5), .. Enumerable.Repeat(finalLoss, 20)],
        PeakRssMb = rss, Accuracy = 0.5, JobSeconds = 10,
    };

    [Fact]
    public void MediansOverRepetitionsAndDistillOverPyTorchRatios()
    {
        var runs = new List<BenchResult>
        {
            Run("distill", "kd", 100, 500, 1.5, 0), Run("pytorch", "kd", 80, 400, 1.5, 0),
            Run("distill", "kd", 120, 520, 1.25, 1), Run("pytorch", "kd", 90, 410, 1.25, 1),
            Run("distill", "kd", 300, 530, 1.0, 2), Run("pytorch", "kd", 100, 420, 1.0, 2),
        };
        var rows = BenchReport.Rows("bert-sst2", runs, epochs: 3, rssSteps: 0);
        var step = rows.Single(r => r.Measure == "KD step time");
        Assert.Equal((120.0, 100.0, 300.0, 3), (step.Distill!.Median, step.Distill.Min, step.Distill.Max, step.Distill.N), new Tolerance());
        Assert.Equal(90.0, step.Reference!.Median, 1e-9);
        Assert.Equal(120.0 / 90.0, step.Ratio!.Value, 1e-9);
        var rss = rows.Single(r => r.Measure == "peak RSS");
        Assert.Equal(520.0 / 410.0, rss.Ratio!.Value, 1e-9);
        var loss = rows.Single(r => r.Measure.StartsWith("final loss", StringComparison.Ordinal));
        Assert.Equal(1.25, loss.Distill!.Median, 1e-12); // the mean of the last 20 steps skips the five 100s
        Assert.Equal(1.0, loss.Ratio!.Value, 1e-12);
        Assert.Equal(2.0, rows.Single(r => r.Measure == "epoch time").Distill!.Median, 1e-12);
        Assert.DoesNotContain(rows, r => r.Measure.StartsWith("bf16", StringComparison.Ordinal) || r.Measure.StartsWith("cache", StringComparison.Ordinal));
        Assert.DoesNotContain(rows, r => r.Measure.StartsWith("RSS growth", StringComparison.Ordinal));
        Assert.All(rows, r => Assert.Equal("bert-sst2", r.Workload));
    }

    [Fact]
    public void CacheAndBf16RowsCompareWithDistillFp32()
    {
        var runs = new List<BenchResult>
        {
            Run("distill", "kd", 100, 500, 1, 0), Run("pytorch", "kd", 80, 400, 1, 0),
            Run("distill", "cache", 50, 600, 1, 0) with { EpochSeconds = [4.0, 1.0, 2.0] },
            Run("distill", "bf16", 400, 450, 1.1, 0),
        };
        var rows = BenchReport.Rows("vit-cifar10", runs, 3, 0);
        var cacheEpoch = rows.Single(r => r.Measure == "cache: epoch time from epoch 2 on");
        Assert.Equal("Distill fp32", cacheEpoch.ReferenceLabel);
        Assert.Equal(1.5, cacheEpoch.Distill!.Median, 1e-12); // median of epochs 2 and 3 (1 s, 2 s); the first (build) is left out
        Assert.Equal(2.5, cacheEpoch.Reference!.Median, 1e-12);
        var bf16 = rows.Single(r => r.Measure == "bf16: step time");
        Assert.Equal(4.0, bf16.Ratio!.Value, 1e-9);
        Assert.Equal(450.0 / 500.0, rows.Single(r => r.Measure == "bf16: peak RSS").Ratio!.Value, 1e-9);
    }

    [Fact]
    public void RssGrowthIsTheLargestSampleAfterTheFirstTenthOverItsFirst()
    {
        var run = new BenchResult { Side = "distill", Variant = "kd", Tag = "rss", RssMb = [[50, 300], [100, 400], [150, 410], [200, 420], [300, 405]] };
        // Samples from step 30 on (10 % of 300): all of them; max 420 over the first 300 → +40 %.
        Assert.Equal(0.4, BenchReport.RssGrowth(run), 1e-12);
        var late = run with { RssMb = [[10, 100], [50, 400], [100, 410], [200, 420], [300, 405]] };
        Assert.Equal(420.0 / 400.0 - 1, BenchReport.RssGrowth(late), 1e-12); // the sample at step 10 is warm-up
        var rows = BenchReport.Rows("quickstart", [run, run with { Side = "pytorch" }], 3, 300);
        var growth = rows.Single(r => r.Measure == "RSS growth over 300 steps after warm-up");
        Assert.Equal(40.0, growth.Distill!.Median, 1e-9);
        Assert.Null(growth.Ratio);
    }

    [Fact]
    public void TheMarkdownTableHasOneLinePerRowWithUnitsAndSpreads()
    {
        var runs = new List<BenchResult> { Run("distill", "kd", 100, 500, 1, 0), Run("distill", "kd", 200, 600, 1, 1), Run("pytorch", "kd", 100, 400, 1, 0) };
        var rows = BenchReport.Rows("bert-sst2", runs, 3, 0);
        var lines = BenchReport.Markdown(rows).TrimEnd().Split('\n');
        Assert.Equal(rows.Count + 2, lines.Length);
        Assert.Contains("| bert-sst2 | KD step time | 150.00 ms (100.00–200.00) | PyTorch | 100.00 ms | 1.50 | ≤ 1.0 |", lines);
    }

    private sealed class Tolerance : IEqualityComparer<(double, double, double, int)>
    {
        public bool Equals((double, double, double, int) a, (double, double, double, int) b) =>
            Math.Abs(a.Item1 - b.Item1) < 1e-9 && Math.Abs(a.Item2 - b.Item2) < 1e-9 && Math.Abs(a.Item3 - b.Item3) < 1e-9 && a.Item4 == b.Item4;

        public int GetHashCode((double, double, double, int) obj) => obj.Item4;
    }
}
