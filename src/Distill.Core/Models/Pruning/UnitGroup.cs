namespace Distill.Models.Pruning;

/// <summary>
/// A set of units (neurons, FFN neurons, conv channels, attention heads) that structured pruning removes together with
/// everything that belongs to them: for each unit u, slices [u·Block, (u+1)·Block) along <c>Dim</c> of every
/// <see cref="Producers"/> tensor (the unit's incoming weights, bias, norm parameters and statistics) and of every
/// <see cref="Consumers"/> tensor (the next layer's weights that read the unit). <c>Block</c> &gt; 1 where one unit
/// spans several rows or columns: a conv channel flattened into the head (H·W columns), an attention head (head_dim
/// rows of query/key/value, head_dim columns of the attention output projection).
/// </summary>
/// <param name="Module">Path of the module that produces the units (what include/exclude patterns match).</param>
/// <param name="Count">Number of units.</param>
public sealed record UnitGroup(string Module, int Count, IReadOnlyList<TensorSlice> Producers, IReadOnlyList<TensorSlice> Consumers)
{
    /// <summary>What kind of unit the group holds.</summary>
    public PruneUnit Kind { get; init; } = PruneUnit.Neurons;

    /// <summary>Attention-head groups: the encoder layer, whose <c>pruned_heads</c> entry the rebuild extends.</summary>
    public int? Layer { get; init; }

    /// <summary>Slices the magnitude score is the L2 norm over; null = the first producer (the incoming weights).</summary>
    public IReadOnlyList<TensorSlice>? MagnitudeSlices { get; init; }

    /// <summary>Slices the Taylor score sums g·w over; null = all producers.</summary>
    public IReadOnlyList<TensorSlice>? TaylorSlices { get; init; }
}
