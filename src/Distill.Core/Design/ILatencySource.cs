namespace Distill.Design;

/// <summary>Where candidate latencies come from: a profile cache plus the profiler in a run, a formula in tests.</summary>
public interface ILatencySource
{
    /// <summary>A measurement already available without timing (the profile cache), or null.</summary>
    LatencyMeasurement? Cached(Candidate candidate);

    /// <summary>Times the candidate now (and caches the result).</summary>
    LatencyMeasurement Measure(Candidate candidate);

    /// <summary>Times the candidates now, together (interleaved, where the source can), and caches the results; argument order.</summary>
    IReadOnlyList<LatencyMeasurement> MeasureMany(IReadOnlyList<Candidate> candidates) => [.. candidates.Select(Measure)];

    /// <summary>Makes <paramref name="measurement"/> the stored one for the candidate (after a re-timing kept an earlier, steadier timing).</summary>
    void Keep(Candidate candidate, LatencyMeasurement measurement) { }
}
