using Distill.Design;
using Distill.Models.Cnn;
using Distill.Models.Design;
using Xunit;

namespace Distill.Tests.Design;

public class LatencyModelTests
{
    private static readonly MeasureSpec Measure = new() { MaxMeasured = 24, Folds = 5, Seed = 1 };

    [Fact]
    public void ExactPerBlockCostsArePredictedExactlyForUnmeasuredCandidates()
    {
        var candidates = DesignTestSpaces.Cnn();
        var source = new SyntheticLatency(DesignTestSpaces.CnnCosts);
        var profile = DesignSearch.Profile(new CnnDesign(), DesignTestSpaces.Shape, candidates, Measure, source);

        Assert.Equal(24, profile.FitIndices.Count);
        Assert.Equal(24, source.Timed.Count);
        foreach (var c in candidates)
            Assert.True(Math.Abs(profile.Predicted(c) - source.Truth(c)) <= 1e-6 * source.Truth(c), $"{c.Label}: {profile.Predicted(c)} vs {source.Truth(c)}");
        Assert.True(profile.Holdout.MedianPct < 1e-4, $"held-out MdAPE {profile.Holdout.MedianPct}%");
        Assert.Equal(24, profile.Holdout.Points);
    }

    [Fact]
    public void NoisyMeasurementsGiveAHeldOutErrorOfTheNoiseLevel()
    {
        var candidates = DesignTestSpaces.Cnn();
        var source = new SyntheticLatency(DesignTestSpaces.CnnCosts, noise: 0.08);
        var profile = DesignSearch.Profile(new CnnDesign(), DesignTestSpaces.Shape, candidates, Measure with { MaxMeasured = 40 }, source);

        // Uniform ±8% noise: a sound fit has a held-out median error of a few percent, not zero and not tens of percent.
        Assert.InRange(profile.Holdout.MedianPct, 0.5, 10);
        var fitted = profile.FitIndices.ToHashSet();
        var outOfSample = candidates.Where(c => !fitted.Contains(c.Index))
            .Select(c => Math.Abs(profile.Predicted(c) - source.Truth(c)) / source.Truth(c) * 100).ToList();
        Assert.InRange(Stats.Median(outOfSample), 0.5, 10);
    }

    [Fact]
    public void CostsStayNonNegativeWhenLeastSquaresWouldGoNegative()
    {
        // Latency falls with the feature: unconstrained least squares gives it a negative cost.
        string[] names = ["overhead", "x"];
        var x = new[] { 0.0, 1, 2, 3 }.Select(v => (IReadOnlyList<double>)new[] { 1, v }).ToList();
        var y = new[] { 4.0, 3, 2, 1 };
        var model = LatencyModel.Fit(names, x, y);
        Assert.Equal(0, model.Costs[1]);
        Assert.True(model.Costs[0] > 0);
        // With the slope at 0, the best constant under relative error is Σ(1/y) / Σ(1/y²).
        double expected = y.Sum(v => 1 / v) / y.Sum(v => 1 / (v * v));
        Assert.Equal(expected, model.Costs[0], 9);
    }

    [Fact]
    public void NnlsMeetsTheOptimalityConditions()
    {
        var a = new[] { new[] { 1.0, 0, 2 }, new[] { 1.0, 1, 0 }, new[] { 1.0, 2, 1 }, new[] { 1.0, 3, 5 }, new[] { 0.5, 1, 1 } };
        var b = new[] { 3.0, 1, -2, 4, 0.5 };
        var x = Nnls.Solve(a, b);
        var w = new double[3];
        for (int i = 0; i < a.Length; i++)
        {
            double r = b[i] - a[i].Zip(x).Sum(p => p.First * p.Second);
            for (int k = 0; k < 3; k++) w[k] += a[i][k] * r;
        }
        for (int k = 0; k < 3; k++)
        {
            Assert.True(x[k] >= 0, $"x[{k}] = {x[k]}");
            // KKT: the gradient vanishes on free variables and points outward (w <= 0) on variables held at zero.
            if (x[k] > 0) Assert.True(Math.Abs(w[k]) < 1e-9, $"w[{k}] = {w[k]}");
            else Assert.True(w[k] <= 1e-9, $"w[{k}] = {w[k]}");
        }
        Assert.Contains(x, v => v == 0); // this problem has an active constraint
    }

    [Fact]
    public void CrossValidationPredictsEachPointWithoutIt()
    {
        string[] names = ["overhead", "x"];
        var x = Enumerable.Range(1, 10).Select(v => (IReadOnlyList<double>)new[] { 1.0, v }).ToList();
        var y = Enumerable.Range(1, 10).Select(v => 1 + 0.5 * v).ToArray();
        y[4] *= 2; // one measurement twice too slow
        var holdout = LatencyModel.CrossValidate(names, x, y, folds: 10, seed: 1);
        Assert.Equal(10, holdout.Points);
        // Predicted by the other nine (which lie on the line), the outlier is off by about half of its value.
        Assert.True(holdout.AbsolutePercentErrors[4] > 40, $"outlier APE {holdout.AbsolutePercentErrors[4]}");
        Assert.True(holdout.MedianPct < holdout.AbsolutePercentErrors[4] / 2);
    }

    [Fact]
    public void BadInputsAreRefused()
    {
        string[] names = ["overhead", "x"];
        IReadOnlyList<double>[] rows = [new[] { 1.0, 1 }, new[] { 1.0, 2 }];
        Assert.Throws<ArgumentException>(() => LatencyModel.Fit(names, rows, [1.0, -1]));
        Assert.Throws<ArgumentException>(() => LatencyModel.Fit(names, rows, [1.0]));
        Assert.Throws<ArgumentException>(() => LatencyModel.Fit(names, [new[] { 1.0 }], [1.0]));
        var model = LatencyModel.Fit(names, rows, [1.0, 2]);
        Assert.Throws<ArgumentException>(() => model.Predict([1.0]));
    }
}
