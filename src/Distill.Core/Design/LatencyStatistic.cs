namespace Distill.Design;

/// <summary>Which statistic of the timed samples stands for a candidate's latency (fit, pick and budget check).</summary>
public enum LatencyStatistic
{
    /// <summary>The median sample: the typical latency on the machine as it is.</summary>
    Median,

    /// <summary>
    /// The fastest sample: on a machine shared with other work, contention only ever adds time, so the minimum is the
    /// closest estimate of the latency on an idle deployment machine (the reason <c>timeit</c> reports it).
    /// </summary>
    Min,

    /// <summary>
    /// The mean of the samples without the fastest and slowest <c>measure.trim_pct</c> percent: less sensitive than the
    /// minimum to one lucky sample, less than the median to the machine's typical load.
    /// </summary>
    TrimmedMean,
}
