using Distill.Schema;

namespace Distill.Losses;

/// <summary><c>kind: ctc_soft_target</c> — frame-level KD for CTC models: alpha·T²·(per-frame KL over the real frames) + (1 − alpha)·CTC.</summary>
public sealed record CtcSoftTargetSpec : LossTermSpec
{
    public CtcSoftTargetSpec() => Kind = "ctc_soft_target";

    /// <summary>Softmax temperature T applied to both models' per-frame logits.</summary>
    [Bounds(0, 1000, ExclusiveMinimum = true)] public double Temperature { get; init; } = 2.0;

    /// <summary>Weight of the frame-level soft targets; 1 − alpha goes to the student's CTC loss on the transcripts.</summary>
    [Bounds(0, 1)] public double Alpha { get; init; } = 0.5;
}
