namespace Distill.Compression.Pruning;

/// <summary>What a <c>prune</c> stage removes.</summary>
public enum PruneMethod
{
    /// <summary>Single weights with the smallest |w| (unstructured).</summary>
    Magnitude,

    /// <summary>All but the N largest of every M consecutive weights (N:M fine-grained structured sparsity); <c>nm</c> in recipes.</summary>
    NM,

    /// <summary>Whole units (neurons, FFN neurons, conv channels), physically removed: the model and its config shrink.</summary>
    Structured,
}
