using Distill.Compression.Allocation;
using Xunit;

namespace Distill.Tests.Compression;

public class BudgetSearchTests
{
    /// <summary>Accuracy rising with the budget, passing 0.9 from 6,250 bytes on.</summary>
    private static (long, double) Curve(long budget) => (budget - 3, budget >= 6250 ? 0.9 + budget * 1e-7 : 0.5);

    [Fact]
    public void Bisection_FindsTheSmallestPassingBudget_WithinTheEvaluations()
    {
        var o = BudgetSearch.Bisect(1000, 20000, 0.9, 20, Curve);
        Assert.NotNull(o.Best);
        Assert.Equal(6250, o.Evaluations[o.Best!.Value].Budget);
        Assert.Equal(20000, o.Evaluations[0].Budget);
        // log2(19,001) ≈ 14.2: the interval closes to one byte in at most 16 evaluations.
        Assert.InRange(o.Evaluations.Count, 2, 16);
    }

    [Fact]
    public void TheEvaluationBudget_BoundsTheCost()
    {
        int calls = 0;
        var o = BudgetSearch.Bisect(1000, 20000, 0.9, 4, b => { calls++; return Curve(b); });
        Assert.Equal(4, calls);
        Assert.Equal(4, o.Evaluations.Count);
        var best = o.Evaluations[o.Best!.Value];
        Assert.True(best.Within && best.Budget >= 6250 && best.Budget < 20000, $"best {best.Budget}");
    }

    [Fact]
    public void WhenTheLargestBudgetFails_NothingSmallerIsTried()
    {
        var o = BudgetSearch.Bisect(1000, 5000, 0.9, 6, Curve);
        Assert.Null(o.Best);
        Assert.Single(o.Evaluations);
    }
}
