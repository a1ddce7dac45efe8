namespace Distill.Compression.Pruning;

/// <summary>How magnitude pruning spreads the sparsity: every layer to the same sparsity, or one threshold over all.</summary>
public enum PruneScope
{
    /// <summary>Each selected weight loses the same fraction of its entries.</summary>
    Layer,

    /// <summary>One magnitude threshold over all selected weights.</summary>
    Global,
}
