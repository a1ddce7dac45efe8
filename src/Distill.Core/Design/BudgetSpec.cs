using Distill.Schema;

namespace Distill.Design;

/// <summary><c>budget:</c> of a <c>design</c> stage. The latency budget is per batch of the deployment shape.</summary>
public sealed record BudgetSpec
{
    /// <summary>Milliseconds per batch (median of the timed runs) the student must not exceed.</summary>
    [RequiredKey, Bounds(0, 1e9, ExclusiveMinimum = true)] public double LatencyMs { get; init; }

    /// <summary>Optional cap on the parameter count.</summary>
    [Bounds(1, long.MaxValue)] public long? Params { get; init; }

    /// <summary>Optional cap on the bytes of the dense fp32 weights.</summary>
    [Bounds(1, long.MaxValue)] public long? Bytes { get; init; }
}
