namespace Distill.Design;

/// <summary>What a design search picked, and why.</summary>
public sealed record DesignOutcome
{
    public required Candidate Pick { get; init; }

    public required PickKind Kind { get; init; }

    /// <summary>Candidates measured within budget, largest capacity first (the proxy pick ranks these).</summary>
    public required IReadOnlyList<Candidate> Accepted { get; init; }

    /// <summary>Candidates visited in capacity order whose measured latency exceeded the budget.</summary>
    public required IReadOnlyList<Candidate> RejectedOverBudget { get; init; }

    /// <summary>Timings taken to confirm predictions.</summary>
    public required int VerifyTimings { get; init; }

    public required IReadOnlyList<string> Warnings { get; init; }

    /// <summary>Parameter rule only: the parameter budget it derived from the teacher.</summary>
    public double? ParamBudget { get; init; }

    /// <summary>Proxy pick only: accuracy of each proxy run, by candidate index.</summary>
    public IReadOnlyDictionary<int, double>? ProxyAccuracy { get; init; }
}
