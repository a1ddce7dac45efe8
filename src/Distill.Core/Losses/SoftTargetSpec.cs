using Distill.Schema;

namespace Distill.Losses;

/// <summary><c>kind: soft_target</c> — Hinton KD mixed with hard-label cross-entropy: alpha·T²·KL + (1 − alpha)·CE.</summary>
public sealed record SoftTargetSpec : LossTermSpec
{
    public SoftTargetSpec() => Kind = "soft_target";

    /// <summary>Softmax temperature T applied to both teacher and student logits.</summary>
    [Bounds(0, 1000, ExclusiveMinimum = true)] public double Temperature { get; init; } = 4.0;

    /// <summary>Weight of the soft-target part; 1 − alpha goes to cross-entropy on the labels.</summary>
    [Bounds(0, 1)] public double Alpha { get; init; } = 0.9;
}
