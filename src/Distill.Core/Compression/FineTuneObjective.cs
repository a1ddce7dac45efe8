namespace Distill.Compression;

/// <summary>What a compression stage fine-tunes the student with.</summary>
public enum FineTuneObjective
{
    /// <summary>The recipe's <c>distill.terms</c> against the teacher when both exist, else cross-entropy on the labels.</summary>
    Auto,

    /// <summary>The recipe's <c>distill.terms</c> against the teacher (an error when either is missing).</summary>
    Distill,

    /// <summary>Cross-entropy on the labels.</summary>
    Ce,
}
