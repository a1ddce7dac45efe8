using Distill.Design;
using Distill.Models.Cnn;
using Xunit;

namespace Distill.Tests.Design;

/// <summary>
/// The robust timing protocol's logic with a fake clock: each candidate's sampler returns a known time, and a fake
/// machine multiplies the samples taken during chosen calls (a neighbour's burst of load). Nothing is timed for real.
/// </summary>
public sealed class InterleavedTimingTests
{
    /// <summary>A machine whose n-th sample (0-based, counted over every candidate) is slowed by <see cref="Slowdown"/>.</summary>
    private sealed class FakeMachine(double[] baseMs)
    {
        public int Calls { get; private set; }

        public Func<int, int, double> Slowdown { get; init; } = (_, _) => 1;

        public IReadOnlyList<Func<double>> Samplers => [.. baseMs.Select<double, Func<double>>((ms, i) => () => ms * Slowdown(Calls++, i))];
    }

    private static readonly double[] Base = [1.0, 2.0, 3.0, 4.0];

    [Fact]
    public void Rounds_interleave_every_candidate_between_two_reference_samples_in_a_rotating_order()
    {
        var machine = new FakeMachine(Base);
        var outcome = InterleavedTiming.Run(machine.Samplers, reference: 1, new TimingSettings { Rounds = 6, BaselineSamples = 3 });

        Assert.Equal([1, 1, 1], outcome.Order.Take(3));
        var rounds = outcome.Order.Skip(3).Chunk(5).ToList();
        Assert.Equal(6, rounds.Count);
        var firsts = new HashSet<int>();
        foreach (var round in rounds)
        {
            Assert.Equal(1, round[0]);
            Assert.Equal(1, round[^1]);
            Assert.Equal([0, 2, 3], round[1..^1].Order());
            firsts.Add(round[1]);
        }
        Assert.Equal(3, firsts.Count); // the rotation puts each candidate first after the reference in turn
        // No candidate is ever sampled twice in a row except the reference across a round boundary.
        for (int k = 1; k < outcome.Order.Count; k++)
            if (outcome.Order[k] == outcome.Order[k - 1]) Assert.Equal(1, outcome.Order[k]);
        Assert.Equal([6, 12, 6, 6], outcome.Samples.Select(s => s.Count));
        Assert.Equal(0, outcome.RejectedRounds);
    }

    [Fact]
    public void Rounds_hit_by_a_burst_of_load_are_rejected_and_re_run()
    {
        // Two bursts (x2.5 for every candidate), each covering one round and a bit of the next: calls 3+5k are round starts.
        static bool Burst(int call) => call is >= 10 and < 16 or >= 31 and < 35;
        var machine = new FakeMachine(Base) { Slowdown = (call, _) => Burst(call) ? 2.5 : 1 };
        var settings = new TimingSettings { Rounds = 8, OutlierPct = 15, MaxRetries = 10 };
        var outcome = InterleavedTiming.Run(machine.Samplers, reference: 1, settings);

        Assert.InRange(outcome.RejectedRounds, 2, 4);
        Assert.False(outcome.RetriesExhausted);
        for (int i = 0; i < Base.Length; i++)
        {
            Assert.Equal(i == 1 ? 16 : 8, outcome.Samples[i].Count);
            var m = LatencyMeasurement.FromSamples(outcome.Samples[i], 1, 1, null, settings, outcome.RejectedRounds, outcome.RetriesExhausted);
            // Every burst sample that reached the statistics would show in the maximum.
            Assert.Equal(Base[i], outcome.Samples[i].Max());
            Assert.Equal(Base[i], m.MinMs);
            Assert.Equal(Base[i], m.MedianMs);
            Assert.Equal(Base[i], m.TrimmedMeanMs!.Value, 12);
            Assert.False(m.Unstable);
            Assert.Equal(outcome.RejectedRounds, m.RejectedRounds);
        }
    }

    [Fact]
    public void A_spike_that_misses_the_reference_is_kept_but_the_trimmed_mean_and_median_ignore_it()
    {
        // One sample of candidate 3 is 5x slow; the reference never sees it, so its round stands.
        int spiked = -1;
        var machine = new FakeMachine(Base)
        {
            Slowdown = (call, i) =>
            {
                if (i != 3 || spiked >= 0 || call < 20) return 1;
                spiked = call;
                return 5;
            },
        };
        var settings = new TimingSettings { Rounds = 10, TrimPct = 20 };
        var outcome = InterleavedTiming.Run(machine.Samplers, reference: 1, settings);
        Assert.Equal(0, outcome.RejectedRounds);
        var m = LatencyMeasurement.FromSamples(outcome.Samples[3], 1, 1, null, settings, 0, false);
        Assert.Equal(20.0, outcome.Samples[3].Max());
        Assert.Equal(4.0, m.TrimmedMeanMs!.Value, 12);
        Assert.Equal(4.0, m.MedianMs);
        Assert.Equal(4.0, m.MinMs);
        Assert.True(InterleavedTiming.TrimmedMean(outcome.Samples[3], 0) > 5.0, "without trimming the spike would move the mean");
    }

    [Fact]
    public void A_sustained_slowdown_exhausts_the_retries_and_marks_the_timings_unstable()
    {
        // From the third round on the machine is permanently 1.5x slower: every later round looks noisy.
        var machine = new FakeMachine(Base) { Slowdown = (call, _) => call >= 13 ? 1.5 : 1 };
        var settings = new TimingSettings { Rounds = 6, MaxRetries = 4 };
        var outcome = InterleavedTiming.Run(machine.Samplers, reference: 1, settings);

        Assert.Equal(4, outcome.RejectedRounds);
        Assert.True(outcome.RetriesExhausted);
        Assert.Equal(6, outcome.Samples[0].Count);
        var m = LatencyMeasurement.FromSamples(outcome.Samples[0], 1, 1, null, settings, outcome.RejectedRounds, outcome.RetriesExhausted);
        Assert.True(m.Unstable, "kept noisy rounds make the timing unstable");
    }

    [Fact]
    public void A_large_spread_marks_a_timing_unstable()
    {
        var settings = new TimingSettings { MaxSpreadPct = 15 };
        var tight = LatencyMeasurement.FromSamples([1.0, 1.01, 1.02, 0.99, 1.0, 1.03], 1, 1, null, settings, 0, false);
        var wide = LatencyMeasurement.FromSamples([1.0, 1.4, 0.9, 1.6, 1.0, 1.3], 1, 1, null, settings, 0, false);
        Assert.False(tight.Unstable);
        Assert.True(wide.Unstable, $"spread {wide.SpreadPct}%");
        Assert.Equal(tight.TrimmedMeanMs, tight.Value(LatencyStatistic.TrimmedMean));
    }

    [Fact]
    public void A_single_candidate_is_its_own_reference()
    {
        var machine = new FakeMachine([2.0]);
        var outcome = InterleavedTiming.Run(machine.Samplers, reference: 0, new TimingSettings { Rounds = 4, BaselineSamples = 2 });
        Assert.Equal(2 + 4 * 2, outcome.Order.Count);
        Assert.Equal(8, outcome.Samples[0].Count);
    }

    // ------------------------------------------------------------------ the design search around it

    /// <summary>A source whose first timing of a candidate is <c>first(c)</c> and any later one <c>later(c)</c>; unstable where <c>unstable(c)</c>.</summary>
    private sealed class ScriptedLatency(Func<Candidate, double> first, Func<Candidate, double> later, Func<Candidate, bool>? unstable = null,
        Func<Candidate, int, double>? spread = null) : ILatencySource
    {
        private readonly Dictionary<int, int> _timings = [];

        public List<IReadOnlyList<int>> Blocks { get; } = [];

        public Dictionary<int, LatencyMeasurement> Kept { get; } = [];

        public void Keep(Candidate candidate, LatencyMeasurement measurement) => Kept[candidate.Index] = measurement;

        public LatencyMeasurement? Cached(Candidate candidate) => null;

        public LatencyMeasurement Measure(Candidate candidate) => MeasureMany([candidate])[0];

        public IReadOnlyList<LatencyMeasurement> MeasureMany(IReadOnlyList<Candidate> candidates)
        {
            Blocks.Add([.. candidates.Select(c => c.Index)]);
            return [.. candidates.Select(c =>
            {
                int n = _timings.GetValueOrDefault(c.Index);
                _timings[c.Index] = n + 1;
                double ms = n == 0 ? first(c) : later(c);
                double half = ms * (spread?.Invoke(c, n) ?? 0) / 200;
                return new LatencyMeasurement
                {
                    MedianMs = ms, P25Ms = ms - half, P75Ms = ms + half, MinMs = ms - half, Repeats = 5, TrimmedMeanMs = ms,
                    Unstable = spread is not null ? 2 * half / ms * 100 > 15 : unstable?.Invoke(c) ?? false,
                };
            })];
        }
    }

    private static double Truth(Candidate c) => c.Features.Zip(DesignTestSpaces.CnnCosts).Sum(p => p.First * p.Second);

    [Fact]
    public void Profiling_times_the_sample_in_blocks_and_leaves_unstable_timings_out_of_the_fit()
    {
        var candidates = DesignTestSpaces.Cnn();
        var measure = new MeasureSpec { MaxMeasured = 24, Block = 8, RetimeUnstable = 0 };
        var wild = DesignSearch.Sample(candidates, 24, measure.Seed).Take(3).Select(c => c.Index).ToHashSet();
        // The unstable ones are timed at 3x their true cost: in the fit they would spoil the model.
        var source = new ScriptedLatency(c => wild.Contains(c.Index) ? 3 * Truth(c) : Truth(c), Truth, c => wild.Contains(c.Index));
        var profile = DesignSearch.Profile(new CnnDesign(), DesignTestSpaces.Shape, candidates, measure, source);

        Assert.Equal(3, source.Blocks.Count);
        Assert.All(source.Blocks, b => Assert.Equal(8, b.Count));
        Assert.Equal(wild.Order(), profile.Unstable);
        Assert.DoesNotContain(profile.FitIndices, wild.Contains);
        Assert.Equal(21, profile.FitIndices.Count);
        Assert.True(profile.Holdout.MedianPct < 1, $"held-out median APE {profile.Holdout.MedianPct}% on the stable points of an exact formula");
        var lines = DesignReport.Headline(profile, new BudgetSpec { LatencyMs = 1 }, DesignSearch.PickByCapacity(profile, new BudgetSpec { LatencyMs = 1 }, source, 5, 1),
            BudgetVerdict.Of(profile.Measured[profile.FitIndices[0]], 1)).ToList();
        Assert.Contains(lines, l => l.Contains("3 of 24 measurements unstable", StringComparison.Ordinal) && l.Contains("left out of the fit", StringComparison.Ordinal));
    }

    [Fact]
    public void Unstable_timings_are_taken_again_and_the_steadier_one_is_kept()
    {
        var candidates = DesignTestSpaces.Cnn();
        var measure = new MeasureSpec { MaxMeasured = 24, Block = 8, RetimeUnstable = 1 };
        var sample = DesignSearch.Sample(candidates, 24, measure.Seed).ToList();
        var noisy = sample.Take(4).Select(c => c.Index).ToHashSet();
        var worse = sample.Skip(4).Take(1).Select(c => c.Index).ToHashSet(); // unstable, and worse when timed again
        // Noisy ones: first timing 2x slow with a 60 % spread, then the truth with 5 %; the "worse" one: 30 % then 80 %.
        var source = new ScriptedLatency(c => noisy.Contains(c.Index) ? 2 * Truth(c) : Truth(c), Truth,
            spread: (c, n) => noisy.Contains(c.Index) ? (n == 0 ? 60 : 5) : worse.Contains(c.Index) ? (n == 0 ? 30 : 80) : 2);
        var profile = DesignSearch.Profile(new CnnDesign(), DesignTestSpaces.Shape, candidates, measure, source);

        Assert.Equal(4, source.Blocks.Count); // 3 blocks of 8, then one of the 5 unstable
        Assert.Equal(noisy.Concat(worse).Order(), source.Blocks[^1].Order());
        foreach (int i in noisy)
        {
            Assert.False(profile.Measured[i].Unstable);
            Assert.Equal(Truth(candidates[i]), profile.Measured[i].MedianMs, 12);
            Assert.Same(profile.Measured[i], source.Kept[i]);
        }
        int w = worse.Single();
        Assert.Equal(30, profile.Measured[w].SpreadPct, 9); // the earlier, steadier timing stays
        Assert.Same(profile.Measured[w], source.Kept[w]);
        Assert.Equal([w], profile.Unstable);
        Assert.True(profile.Holdout.MedianPct < 1, $"held-out median APE {profile.Holdout.MedianPct}%");
    }

    [Fact]
    public void A_candidate_first_measured_just_over_the_budget_is_timed_again_and_accepted_on_the_new_timing()
    {
        var candidates = DesignTestSpaces.Cnn();
        var measure = new MeasureSpec { MaxMeasured = candidates.Count };
        double budget = Stats.Median(candidates.Select(Truth).ToList());
        // The right pick (the largest candidate truly under the budget) is first timed 4 % over it (a noisy moment), then at its true cost.
        var victim = candidates.Where(c => Truth(c) <= budget).OrderByDescending(c => c.Capacity).ThenBy(Truth).First();
        var source = new ScriptedLatency(c => c.Index == victim.Index ? budget * 1.04 : Truth(c), Truth);
        var profile = DesignSearch.Profile(new CnnDesign(), DesignTestSpaces.Shape, candidates, measure, source);

        var without = DesignSearch.PickByCapacity(profile, new BudgetSpec { LatencyMs = budget }, source, 5, 1);
        Assert.NotEqual(victim.Index, without.Pick.Index); // without re-timing the noisy first timing rejects it
        var with = DesignSearch.PickByCapacity(profile, new BudgetSpec { LatencyMs = budget }, source, 5, 1, retimeMarginPct: 10);
        Assert.Equal(victim.Index, with.Pick.Index);
        Assert.Equal(budget * 1.04, profile.Measured[victim.Index].RetimedFromMs!.Value, 9);
        Assert.Equal(Truth(victim), profile.MeasuredMs(victim), 9);
        Assert.True(profile.Retimed >= 1);
        Assert.False(DesignSearch.NearBudget(budget * 1.2, budget, 10));
        Assert.True(DesignSearch.NearBudget(budget * 0.95, budget, 10));
    }
}
