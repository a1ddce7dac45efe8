using Distill.Models.Design;
namespace Distill.Design;

/// <summary>
/// The profiled design space: every candidate, the measurements (the fitted sample, cache hits and verifications), the
/// latency model fitted on the sample and its cross-validated error.
/// </summary>
public sealed class DesignProfile
{
    private readonly Dictionary<int, LatencyMeasurement> _measured;

    internal DesignProfile(DesignFamily family, DeploymentShape shape, IReadOnlyList<Candidate> candidates,
        Dictionary<int, LatencyMeasurement> measured, IReadOnlyList<int> fitted, LatencyModel model, HoldoutError holdout, int newlyMeasured,
        LatencyStatistic statistic)
    {
        Statistic = statistic;
        Family = family;
        Shape = shape;
        Candidates = candidates;
        _measured = measured;
        FitIndices = fitted;
        Model = model;
        Holdout = holdout;
        NewlyMeasured = newlyMeasured;
    }

    public DesignFamily Family { get; }

    /// <summary>The statistic of each measurement that stands for its latency.</summary>
    public LatencyStatistic Statistic { get; }

    public DeploymentShape Shape { get; }

    public IReadOnlyList<Candidate> Candidates { get; }

    /// <summary>Measured latency by candidate index.</summary>
    public IReadOnlyDictionary<int, LatencyMeasurement> Measured => _measured;

    /// <summary>Candidates the latency model was fitted on.</summary>
    public IReadOnlyList<int> FitIndices { get; }

    public LatencyModel Model { get; }

    /// <summary>Cross-validated error of <see cref="Model"/> on the fitted points.</summary>
    public HoldoutError Holdout { get; }

    /// <summary>How many timings were taken (not read from the cache) while profiling.</summary>
    public int NewlyMeasured { get; private set; }

    public double Predicted(Candidate c) => Model.Predict(c.Features);

    /// <summary>The measured latency when there is one, else the prediction.</summary>
    public double Expected(Candidate c) => _measured.TryGetValue(c.Index, out var m) ? m.Value(Statistic) : Predicted(c);

    /// <summary>The measured latency (by <see cref="Statistic"/>) of a measured candidate.</summary>
    public double MeasuredMs(Candidate c) => _measured[c.Index].Value(Statistic);

    /// <summary>The measurement of a candidate, timing it through <paramref name="source"/> if needed.</summary>
    public LatencyMeasurement Ensure(Candidate c, ILatencySource source)
    {
        if (_measured.TryGetValue(c.Index, out var m)) return m;
        m = source.Cached(c) ?? Timed(c, source);
        _measured[c.Index] = m;
        return m;
    }

    /// <summary>
    /// Times <paramref name="c"/> again (a fresh interleaved block) and keeps the new measurement, with the first one's
    /// value in <see cref="LatencyMeasurement.RetimedFromMs"/>: for candidates whose first timing was too near the budget
    /// to decide on.
    /// </summary>
    public LatencyMeasurement Retime(Candidate c, ILatencySource source)
    {
        double first = _measured[c.Index].Value(Statistic);
        var m = source.Measure(c) with { RetimedFromMs = first };
        NewlyMeasured++;
        Retimed++;
        _measured[c.Index] = m;
        return m;
    }

    /// <summary>How many candidates were timed again because they were near the budget.</summary>
    public int Retimed { get; private set; }

    /// <summary>Measured candidates whose timing is unstable (see <see cref="LatencyMeasurement.Unstable"/>).</summary>
    public IReadOnlyList<int> Unstable => [.. _measured.Where(kv => kv.Value.Unstable).Select(kv => kv.Key).Order()];

    private LatencyMeasurement Timed(Candidate c, ILatencySource source)
    {
        NewlyMeasured++;
        return source.Measure(c);
    }
}
