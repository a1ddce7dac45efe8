namespace Distill.Models.Pruning;

/// <summary>
/// The kinds of units structured pruning removes. Recipes name the transformer kinds in the prune stage's
/// <c>units:</c> list (<c>ffn</c>, <c>heads</c>); <see cref="Neurons"/> and <see cref="Channels"/> are the only units of
/// the mlp and cnn families and are always pruned there.
/// </summary>
public enum PruneUnit
{
    /// <summary>Hidden neurons of an MLP (and of the CNN head).</summary>
    Neurons,

    /// <summary>Convolution channels of a CNN block.</summary>
    Channels,

    /// <summary>Feed-forward neurons of every transformer layer (<c>intermediate_size</c>, the same count in all layers).</summary>
    Ffn,

    /// <summary>Attention heads of each transformer layer (HF's <c>pruned_heads</c>; the count may differ per layer).</summary>
    Heads,
}
