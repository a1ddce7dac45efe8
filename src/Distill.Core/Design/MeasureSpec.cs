using Distill.Schema;

namespace Distill.Design;

/// <summary>
/// <c>measure:</c> of a <c>design</c> stage: the timing protocol and how many candidates are timed. Candidates are timed
/// in blocks of <c>block</c> (see <see cref="InterleavedTiming"/>): <c>warmup</c> untimed forward passes of each, then
/// <c>repeats</c> interleaved rounds, each sampling every candidate of the block once (a sample loops the forward pass
/// until it lasts at least <c>min_sample_ms</c>) between two samples of a reference candidate; a round in which the
/// reference's time jumps by more than <c>outlier_pct</c> is re-run (at most <c>max_retries</c> per block). Reported:
/// median, interquartile range, minimum and trimmed mean; a spread above <c>max_spread_pct</c> marks the timing
/// unstable, and an unstable timing is taken again up to <c>retime_unstable</c> times (the steadier one kept). Candidates measured within <c>retime_margin_pct</c> of the budget are timed again before the verdict.
/// </summary>
public sealed record MeasureSpec
{
    [Bounds(0, 10_000)] public int Warmup { get; init; } = 5;

    [Bounds(3, 100_000)] public int Repeats { get; init; } = 15;

    /// <summary>Shortest timed sample; fast models run several forward passes per sample so timer overhead stays negligible.</summary>
    [Bounds(0, 60_000)] public double MinSampleMs { get; init; } = 2;

    /// <summary>Candidates timed to fit the latency model (spread over the space's compute range); the rest are predicted.</summary>
    [Bounds(2, 100_000)] public int MaxMeasured { get; init; } = 24;

    /// <summary>Folds of the cross-validation that reports the latency model's error on held-out measurements.</summary>
    [Bounds(2, 1000)] public int Folds { get; init; } = 5;

    /// <summary>How many of the best predicted candidates are timed to confirm they meet the budget before one is picked.</summary>
    [Bounds(1, 1000)] public int Verify { get; init; } = 5;

    /// <summary>Candidates timed together in one interleaved block (more share the machine's state more fairly, and hold more models in memory).</summary>
    [Bounds(1, 1000)] public int Block { get; init; } = 8;

    /// <summary>A round is re-run when a reference sample is this many percent above the reference's best.</summary>
    [Bounds(0, 10_000, ExclusiveMinimum = true)] public double OutlierPct { get; init; } = 15;

    /// <summary>Noisy rounds re-run at most, per block.</summary>
    [Bounds(0, 100_000)] public int MaxRetries { get; init; } = 10;

    /// <summary>Percent of the samples dropped at each end for the trimmed mean.</summary>
    [Bounds(0, 45)] public double TrimPct { get; init; } = 20;

    /// <summary>Interquartile range, in percent of the median, above which a timing is marked unstable (and left out of the fit while enough stable points remain).</summary>
    [Bounds(0, 10_000, ExclusiveMinimum = true)] public double MaxSpreadPct { get; init; } = 15;

    /// <summary>Candidates measured within this many percent of the latency budget (either side) are timed again before they are accepted or rejected; 0 = never.</summary>
    [Bounds(0, 100)] public double RetimeMarginPct { get; init; } = 10;

    /// <summary>How many times a candidate whose fresh timing is unstable is timed again (in a block with the other unstable ones); the steadier timing is kept.</summary>
    [Bounds(0, 100)] public int RetimeUnstable { get; init; } = 1;

    /// <summary>The protocol's settings as plain values.</summary>
    public TimingSettings Timing => new() { Rounds = Repeats, OutlierPct = OutlierPct, MaxRetries = MaxRetries, TrimPct = TrimPct, MaxSpreadPct = MaxSpreadPct };

    /// <summary><c>median</c> (default), <c>min</c> or <c>trimmed_mean</c> of the samples: what the fit, the pick and the budget check use.
    /// <c>min</c> suits a machine shared with other work (contention only adds time).</summary>
    public LatencyStatistic Statistic { get; init; } = LatencyStatistic.Median;

    /// <summary>Seed of the choice of timed candidates and of the cross-validation folds.</summary>
    public long Seed { get; init; } = 1;
}
