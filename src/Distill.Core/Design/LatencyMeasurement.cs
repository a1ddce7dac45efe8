using System.Text.Json.Serialization;

namespace Distill.Design;

/// <summary>
/// One timed candidate: median and interquartile range (p25..p75) of the per-forward-pass time over the timed samples,
/// with the protocol that produced it and the 1-minute load average at the time (a busy machine inflates timings).
/// </summary>
public sealed record LatencyMeasurement
{
    [JsonPropertyName("median_ms")] public required double MedianMs { get; init; }

    [JsonPropertyName("p25_ms")] public required double P25Ms { get; init; }

    [JsonPropertyName("p75_ms")] public required double P75Ms { get; init; }

    [JsonPropertyName("min_ms")] public required double MinMs { get; init; }

    [JsonPropertyName("repeats")] public required int Repeats { get; init; }

    [JsonPropertyName("warmup")] public int Warmup { get; init; }

    /// <summary>Forward passes per timed sample (fast models loop so each sample lasts at least <c>min_sample_ms</c>).</summary>
    [JsonPropertyName("passes_per_sample")] public int PassesPerSample { get; init; } = 1;

    /// <summary>1-minute load average when the timing ended (Linux), null elsewhere.</summary>
    [JsonPropertyName("load_average")] public double? LoadAverage { get; init; }

    [JsonPropertyName("measured_utc")] public string? MeasuredUtc { get; init; }

    /// <summary>Mean of the samples without the fastest and slowest <c>trim_pct</c> percent (null in profiles written before it was recorded).</summary>
    [JsonPropertyName("trimmed_mean_ms")] public double? TrimmedMeanMs { get; init; }

    /// <summary>Rounds of the interleaved protocol discarded because the reference candidate's time jumped (see <see cref="InterleavedTiming"/>).</summary>
    [JsonPropertyName("rejected_rounds")] public int RejectedRounds { get; init; }

    /// <summary>
    /// The timing cannot be trusted to the latency model's precision: its interquartile range exceeds
    /// <c>max_spread_pct</c> of its median, or noisy rounds had to be kept. Unstable points are left out of the fit
    /// while enough stable ones remain, and are shown as such.
    /// </summary>
    [JsonPropertyName("unstable")] public bool Unstable { get; init; }

    /// <summary>Set when the candidate was timed again because its first timing was near the budget: that first value (by the stage's statistic).</summary>
    [JsonPropertyName("retimed_from_ms")] public double? RetimedFromMs { get; init; }

    /// <summary>The statistic that stands for this measurement (see <see cref="LatencyStatistic"/>).</summary>
    public double Value(LatencyStatistic statistic) => statistic switch
    {
        LatencyStatistic.Min => MinMs,
        LatencyStatistic.TrimmedMean => TrimmedMeanMs ?? MedianMs,
        _ => MedianMs,
    };

    /// <summary>Interquartile range relative to the median, in percent: the timing's spread.</summary>
    [JsonPropertyName("spread_pct")] public double SpreadPct => MedianMs > 0 ? (P75Ms - P25Ms) / MedianMs * 100 : 0;

    /// <summary>Summary of a list of per-pass times.</summary>
    public static LatencyMeasurement FromSamples(IReadOnlyList<double> perPassMs, int warmup, int passesPerSample, double? loadAverage) =>
        FromSamples(perPassMs, warmup, passesPerSample, loadAverage, new TimingSettings(), rejectedRounds: 0, retriesExhausted: false);

    /// <summary>Summary of a candidate's samples from <see cref="InterleavedTiming"/>, with its trimmed mean and stability.</summary>
    public static LatencyMeasurement FromSamples(IReadOnlyList<double> perPassMs, int warmup, int passesPerSample, double? loadAverage,
        TimingSettings settings, int rejectedRounds, bool retriesExhausted)
    {
        var m = Summary(perPassMs, warmup, passesPerSample, loadAverage) with
        {
            TrimmedMeanMs = InterleavedTiming.TrimmedMean(perPassMs, settings.TrimPct), RejectedRounds = rejectedRounds,
        };
        return m with { Unstable = retriesExhausted || m.SpreadPct > settings.MaxSpreadPct };
    }

    private static LatencyMeasurement Summary(IReadOnlyList<double> perPassMs, int warmup, int passesPerSample, double? loadAverage) => new()
    {
        MedianMs = Stats.Median(perPassMs),
        P25Ms = Stats.Quantile(perPassMs, 0.25),
        P75Ms = Stats.Quantile(perPassMs, 0.75),
        MinMs = perPassMs.Min(),
        Repeats = perPassMs.Count,
        Warmup = warmup,
        PassesPerSample = passesPerSample,
        LoadAverage = loadAverage,
        MeasuredUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
    };
}
