using Distill.Design;
using Distill.Models.Design;
using Distill.Models.Cnn;
using Xunit;

namespace Distill.Tests.Design;

public class DesignSearchTests
{
    private static readonly MeasureSpec Measure = new() { MaxMeasured = 24, Folds = 5, Verify = 5, Seed = 1 };

    private static DesignProfile Profile(IReadOnlyList<Candidate> candidates, SyntheticLatency source, MeasureSpec? measure = null) =>
        DesignSearch.Profile(new CnnDesign(), DesignTestSpaces.Shape, candidates, measure ?? Measure, source);

    [Fact]
    public void PickIsTheLargestCandidateWhoseMeasuredLatencyMeetsTheBudget()
    {
        var candidates = DesignTestSpaces.Cnn();
        var source = new SyntheticLatency(DesignTestSpaces.CnnCosts);
        double budget = Stats.Median(candidates.Select(source.Truth).ToList());
        var profile = Profile(candidates, source);
        var outcome = DesignSearch.PickByCapacity(profile, new BudgetSpec { LatencyMs = budget }, source, verify: 5, topK: 1);

        var expected = candidates.Where(c => source.Truth(c) <= budget).OrderByDescending(c => c.Capacity).ThenBy(source.Truth).First();
        Assert.Equal(expected.Index, outcome.Pick.Index);
        Assert.True(profile.Measured.ContainsKey(outcome.Pick.Index), "the pick must have been timed, not only predicted");
        Assert.Empty(outcome.Warnings);
        // The capacity rule is not the parameter-count rule: the largest model overall is far over this budget.
        Assert.True(source.Truth(candidates.MaxBy(c => c.Capacity)!) > budget);
    }

    [Fact]
    public void CandidatesPredictedUnderBudgetButMeasuredOverAreRejected()
    {
        var candidates = DesignTestSpaces.Cnn();
        var sample = DesignSearch.Sample(candidates, Measure.MaxMeasured, Measure.Seed).Select(c => c.Index).ToHashSet();
        var plain = new SyntheticLatency(DesignTestSpaces.CnnCosts);
        double budget = Stats.Median(candidates.Select(plain.Truth).ToList());
        // The two largest unmeasured candidates that look affordable are secretly slow (something the model cannot see).
        var trap = candidates.Where(c => !sample.Contains(c.Index) && plain.Truth(c) <= budget)
            .OrderByDescending(c => c.Capacity).Take(2).Select(c => c.Index).ToHashSet();
        var source = new SyntheticLatency(DesignTestSpaces.CnnCosts, extra: c => trap.Contains(c.Index) ? 10 * budget : 0);

        var profile = Profile(candidates, source);
        var outcome = DesignSearch.PickByCapacity(profile, new BudgetSpec { LatencyMs = budget }, source, verify: 5, topK: 1);

        Assert.Equal(trap.Order(), outcome.RejectedOverBudget.Select(c => c.Index).Where(trap.Contains).Order());
        Assert.DoesNotContain(outcome.Pick.Index, trap);
        Assert.True(source.Truth(outcome.Pick) <= budget);
        var expected = candidates.Where(c => source.Truth(c) <= budget).OrderByDescending(c => c.Capacity).ThenBy(source.Truth).First();
        Assert.Equal(expected.Index, outcome.Pick.Index);
    }

    [Fact]
    public void VerificationTimingsAreLimited()
    {
        var candidates = DesignTestSpaces.Cnn();
        var sample = DesignSearch.Sample(candidates, Measure.MaxMeasured, Measure.Seed).Select(c => c.Index).ToHashSet();
        var plain = new SyntheticLatency(DesignTestSpaces.CnnCosts);
        double budget = Stats.Median(candidates.Select(plain.Truth).ToList());
        // Every unmeasured candidate is secretly slow: with verify = 2, two are timed and then only measured ones can win.
        var source = new SyntheticLatency(DesignTestSpaces.CnnCosts, extra: c => sample.Contains(c.Index) ? 0 : 10 * budget);
        var profile = Profile(candidates, source);
        int before = source.Timed.Count;
        var outcome = DesignSearch.PickByCapacity(profile, new BudgetSpec { LatencyMs = budget }, source, verify: 2, topK: 1);

        Assert.Equal(2, source.Timed.Count - before);
        Assert.Equal(2, outcome.VerifyTimings);
        Assert.Contains(outcome.Pick.Index, sample);
        Assert.True(source.Truth(outcome.Pick) <= budget);
    }

    [Fact]
    public void CachedMeasurementsAreNotTimedAgain()
    {
        var candidates = DesignTestSpaces.Cnn();
        var source = new SyntheticLatency(DesignTestSpaces.CnnCosts);
        var first = Profile(candidates, source);
        Assert.Equal(24, first.NewlyMeasured);

        var cached = new SyntheticLatency(DesignTestSpaces.CnnCosts);
        foreach (int i in first.FitIndices) cached.CachedIndices.Add(i);
        cached.CachedIndices.Add(candidates.Count - 1); // measured by an earlier run outside the sample: joins the fit
        var second = Profile(candidates, cached);
        Assert.Empty(cached.Timed);
        Assert.Equal(0, second.NewlyMeasured);
        Assert.Equal(first.FitIndices.Append(candidates.Count - 1).Distinct().Order(), second.FitIndices);
    }

    [Fact]
    public void ImpossibleBudgetWarnsAndPicksTheFastestMeasured()
    {
        var candidates = DesignTestSpaces.Cnn();
        var source = new SyntheticLatency(DesignTestSpaces.CnnCosts);
        var profile = Profile(candidates, source);
        var outcome = DesignSearch.PickByCapacity(profile, new BudgetSpec { LatencyMs = 1e-6 }, source, verify: 5, topK: 1);
        Assert.Empty(outcome.Accepted);
        Assert.Contains(outcome.Warnings, w => w.Contains("no candidate was measured within"));
        Assert.Equal(profile.Measured.Keys.MinBy(i => profile.Measured[i].MedianMs), outcome.Pick.Index);
        var verdict = BudgetVerdict.Of(profile.Measured[outcome.Pick.Index], 1e-6);
        Assert.False(verdict.Within);
    }

    [Fact]
    public void SizeBudgetsAreRespected()
    {
        var candidates = DesignTestSpaces.Cnn();
        var source = new SyntheticLatency(DesignTestSpaces.CnnCosts);
        var profile = Profile(candidates, source);
        double generous = candidates.Max(source.Truth) * 2;
        var capped = DesignSearch.PickByCapacity(profile, new BudgetSpec { LatencyMs = generous, Params = 30_000 }, source, 5, 1);
        Assert.Equal(candidates.Where(c => c.Params <= 30_000).Max(c => c.Capacity), capped.Pick.Capacity);
        var bytes = DesignSearch.PickByCapacity(profile, new BudgetSpec { LatencyMs = generous, Bytes = 4 * 20_000 }, source, 5, 1);
        Assert.True(bytes.Pick.Bytes <= 80_000);
        Assert.Equal(candidates.MaxBy(c => c.Capacity)!.Index, DesignSearch.PickByCapacity(profile, new BudgetSpec { LatencyMs = generous }, source, 5, 1).Pick.Index);
    }

    [Fact]
    public void TopKListsAcceptedCandidatesByCapacity()
    {
        var candidates = DesignTestSpaces.Cnn();
        var source = new SyntheticLatency(DesignTestSpaces.CnnCosts);
        var profile = Profile(candidates, source);
        double budget = Stats.Median(candidates.Select(source.Truth).ToList());
        var outcome = DesignSearch.PickByCapacity(profile, new BudgetSpec { LatencyMs = budget }, source, verify: 10, topK: 3, PickKind.Proxy);
        Assert.Equal(3, outcome.Accepted.Count);
        Assert.Equal(outcome.Accepted.OrderByDescending(c => c.Capacity).Select(c => c.Index), outcome.Accepted.Select(c => c.Index));
        Assert.All(outcome.Accepted, c => Assert.True(profile.MeasuredMs(c) <= budget));
    }

    [Fact]
    public void ParameterRuleScalesTheTeacherAndIgnoresLatency()
    {
        var candidates = DesignTestSpaces.Cnn();
        var source = new SyntheticLatency(DesignTestSpaces.CnnCosts);
        var profile = Profile(candidates, source);
        var outcome = DesignSearch.PickByParamRule(profile, new BudgetSpec { LatencyMs = 1.0 }, source, teacherCapacity: 200_000, teacherLatencyMs: 4.0);
        Assert.Equal(50_000, outcome.ParamBudget!.Value, 9);
        Assert.Equal(candidates.Where(c => c.Capacity <= 50_000).Max(c => c.Capacity), outcome.Pick.Capacity);
        Assert.True(profile.Measured.ContainsKey(outcome.Pick.Index), "the rule's pick is timed so its real latency can be reported");

        var tiny = DesignSearch.PickByParamRule(profile, new BudgetSpec { LatencyMs = 1.0 }, source, teacherCapacity: 10, teacherLatencyMs: 4.0);
        Assert.Equal(candidates.Min(c => c.Capacity), tiny.Pick.Capacity);
        Assert.Contains(tiny.Warnings, w => w.Contains("picked the smallest"));
        Assert.Throws<ArgumentException>(() => DesignSearch.PickByParamRule(profile, new BudgetSpec { LatencyMs = 1 }, source, 100, 0));
    }

    [Fact]
    public void ParetoFrontKeepsOnlyUndominatedCandidates()
    {
        Candidate C(int i, long capacity) => new()
        {
            Index = i, Config = new CnnConfig(), Label = $"c{i}", Dims = new Dictionary<string, object>(), Params = capacity, Capacity = capacity,
            Macs = 0, Features = [], CacheKey = "",
        };
        double[] latency = [1.0, 2.0, 1.5, 3.0, 2.5];
        long[] capacity = [10, 30, 5, 40, 30];
        var list = Enumerable.Range(0, 5).Select(i => C(i, capacity[i])).ToList();
        var front = DesignSearch.ParetoFront(list, c => latency[c.Index]).Select(c => c.Index).Order();
        // 2 (1.5 ms, 5) is dominated by 0 (1.0 ms, 10); 4 (2.5 ms, 30) by 1 (2.0 ms, 30).
        Assert.Equal([0, 1, 3], front);
    }

    [Fact]
    public void SampleSpansTheComputeRangeDeterministically()
    {
        var candidates = DesignTestSpaces.Cnn();
        var a = DesignSearch.Sample(candidates, 12, seed: 5);
        var b = DesignSearch.Sample(candidates, 12, seed: 5);
        Assert.Equal(a.Select(c => c.Index), b.Select(c => c.Index));
        Assert.Equal(12, a.Select(c => c.Index).Distinct().Count());
        var byMacs = candidates.OrderBy(c => c.Macs).ThenBy(c => c.Index).ToList();
        // One per twelfth of the MAC-sorted list: the cheapest and the most expensive bins are both represented.
        Assert.Contains(a, c => byMacs.IndexOf(c) < candidates.Count / 12 + 1);
        Assert.Contains(a, c => byMacs.IndexOf(c) >= candidates.Count - candidates.Count / 12 - 1);
        Assert.Equal(candidates.Count, DesignSearch.Sample(candidates, 1000, 1).Count);
    }
}
