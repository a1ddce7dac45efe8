namespace Distill.Compression.Pruning;

/// <summary>
/// A set of units (neurons, FFN neurons, conv channels) that structured pruning removes together with everything that
/// belongs to them: for each unit u, slices [u·Block, (u+1)·Block) along <c>Dim</c> of every <see cref="Producers"/>
/// tensor (the unit's incoming weights, bias, norm parameters and statistics) and of every <see cref="Consumers"/>
/// tensor (the next layer's weights that read the unit). <c>Block</c> &gt; 1 where one unit feeds several inputs of
/// the next layer (a conv channel flattened into the head: H·W columns).
/// </summary>
/// <param name="Module">Path of the module that produces the units (what include/exclude patterns match).</param>
/// <param name="Count">Number of units.</param>
public sealed record UnitGroup(string Module, int Count, IReadOnlyList<TensorSlice> Producers, IReadOnlyList<TensorSlice> Consumers);
