namespace Distill.Models.Pruning;

/// <summary>The part of one state-dict tensor that belongs to the units of a <see cref="UnitGroup"/>: unit u owns
/// indices [u·Block, (u+1)·Block) along <see cref="Dim"/>.</summary>
public sealed record TensorSlice(string Name, int Dim, int Block = 1);
