using Distill.Compression.Pruning;

namespace Distill.Compression.Allocation;

/// <summary>One choice for one layer in <see cref="BudgetAllocation"/>: its sparsity and bit width, the exact bytes its
/// artifact record would take without its name (the front-coded name's bytes do not depend on the choice), and the
/// measured loss increase when only this layer is pruned and quantized so.</summary>
public sealed record LayerOption(SparsityChoice Sparsity, int Bits, long Bytes, double Sensitivity);
