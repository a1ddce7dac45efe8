namespace Distill.Design;

/// <summary>
/// The robust timing protocol's knobs (see <see cref="InterleavedTiming"/>), as plain values: the design stage's
/// <c>measure:</c> maps onto it.
/// </summary>
public sealed record TimingSettings
{
    /// <summary>Accepted rounds per block: every candidate of the block is sampled once per round.</summary>
    public int Rounds { get; init; } = 15;

    /// <summary>A round is re-run when a reference sample exceeds the reference's best sample so far by more than this (percent).</summary>
    public double OutlierPct { get; init; } = 15;

    /// <summary>Rounds re-run at most per block; beyond that noisy rounds are kept and the block is marked.</summary>
    public int MaxRetries { get; init; } = 10;

    /// <summary>Share of the samples dropped at each end for the trimmed mean (percent, below 50).</summary>
    public double TrimPct { get; init; } = 20;

    /// <summary>A measurement whose interquartile range exceeds this share of its median (percent) is marked unstable.</summary>
    public double MaxSpreadPct { get; init; } = 15;

    /// <summary>Reference samples taken before the first round to set its baseline.</summary>
    public int BaselineSamples { get; init; } = 3;
}
