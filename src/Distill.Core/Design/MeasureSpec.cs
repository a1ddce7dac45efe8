using Distill.Schema;

namespace Distill.Design;

/// <summary>
/// <c>measure:</c> of a <c>design</c> stage: the timing protocol and how many candidates are timed. Each timing is
/// <c>warmup</c> untimed forward passes, then <c>repeats</c> timed samples (each sample loops the forward pass until it
/// lasts at least <c>min_sample_ms</c>), reported as the median and the interquartile range.
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

    /// <summary><c>median</c> (default) or <c>min</c> of the samples: what the fit, the pick and the budget check use.
    /// <c>min</c> suits a machine shared with other work (contention only adds time).</summary>
    public LatencyStatistic Statistic { get; init; } = LatencyStatistic.Median;

    /// <summary>Seed of the choice of timed candidates and of the cross-validation folds.</summary>
    public long Seed { get; init; } = 1;
}
