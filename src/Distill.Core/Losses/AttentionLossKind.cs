namespace Distill.Losses;

/// <summary>How attention maps are compared.</summary>
public enum AttentionLossKind
{
    /// <summary>KL(teacher ‖ student) per query row, averaged over heads and rows.</summary>
    Kl,

    /// <summary>Mean squared error of the probabilities (TinyBERT).</summary>
    Mse,
}
