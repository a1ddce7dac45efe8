using Distill.Design;

namespace Distill.Tests.Design;

/// <summary>
/// An <see cref="ILatencySource"/> with a known latency formula instead of a clock: cost features dotted with fixed
/// costs, times an optional multiplicative noise drawn per candidate, plus an optional extra term the model cannot
/// express. Counts timings, and serves a "cache" of candidates given up front.
/// </summary>
internal sealed class SyntheticLatency(double[] costs, double noise = 0, Func<Candidate, double>? extra = null, long seed = 3) : ILatencySource
{
    public HashSet<int> CachedIndices { get; } = [];

    public List<int> Timed { get; } = [];

    public double Truth(Candidate c)
    {
        double ms = c.Features.Zip(costs).Sum(p => p.First * p.Second) + (extra?.Invoke(c) ?? 0);
        if (noise > 0)
        {
            var r = new Random(unchecked((int)(seed * 1_000_003 + c.Index)));
            ms *= 1 + noise * (2 * r.NextDouble() - 1);
        }
        return ms;
    }

    private LatencyMeasurement Of(Candidate c)
    {
        double ms = Truth(c);
        return new LatencyMeasurement { MedianMs = ms, P25Ms = ms * 0.98, P75Ms = ms * 1.02, MinMs = ms * 0.95, Repeats = 5 };
    }

    public LatencyMeasurement? Cached(Candidate candidate) => CachedIndices.Contains(candidate.Index) ? Of(candidate) : null;

    public LatencyMeasurement Measure(Candidate candidate)
    {
        Timed.Add(candidate.Index);
        return Of(candidate);
    }
}
