using Distill.Design;
using Xunit;

namespace Distill.Tests.Design;

public class BudgetVerdictTests
{
    private static LatencyMeasurement M(double median, double p25, double p75, double min) =>
        new() { MedianMs = median, P25Ms = p25, P75Ms = p75, MinMs = min, Repeats = 10 };

    [Fact]
    public void WithinBudgetReportsHeadroom()
    {
        var v = BudgetVerdict.Of(M(0.8, 0.75, 0.85, 0.7), 1.0);
        Assert.True(v.Within);
        Assert.False(v.Marginal);
        Assert.Equal(-20, v.MarginPct, 9);
        Assert.Contains("within budget", v.Text);
        Assert.Contains("20.0% headroom", v.Text);
    }

    [Fact]
    public void MissingTheBudgetIsAWarningNotAPass()
    {
        var v = BudgetVerdict.Of(M(1.25, 1.2, 1.3, 1.1), 1.0);
        Assert.False(v.Within);
        Assert.Equal(25, v.MarginPct, 9);
        Assert.StartsWith("OVER BUDGET", v.Text);
        Assert.Contains("+25.0%", v.Text);
    }

    [Fact]
    public void SpreadAcrossTheBudgetIsFlaggedAndTheStatisticDecides()
    {
        var m = M(1.05, 0.95, 1.2, 0.9);
        var byMedian = BudgetVerdict.Of(m, 1.0);
        Assert.False(byMedian.Within);
        Assert.True(byMedian.Marginal);
        Assert.Contains("within the timing spread", byMedian.Text);
        var byMin = BudgetVerdict.Of(m, 1.0, LatencyStatistic.Min);
        Assert.True(byMin.Within);
        Assert.Equal(0.9, byMin.MeasuredMs);
    }
}
