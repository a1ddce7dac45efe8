using TorchSharp.Modules;

namespace Distill.Compression.Pruning;

/// <summary>One weight selected for pruning: its parameter name (state-dict key), its module's path and the parameter.</summary>
/// <param name="Name">State-dict key, e.g. <c>layers.0.weight</c>; masks are keyed by it.</param>
/// <param name="ModulePath">The owning module's path, e.g. <c>layers.0</c>; patterns match this.</param>
/// <param name="Weight">The live parameter (masks are applied to it in place).</param>
/// <param name="IsEmbedding">True for an embedding weight (a lookup table, a position embedding), selected only on
/// request (<see cref="PruneSelector"/>); its module's input is not an activation that could be quantized.</param>
public sealed record PrunableWeight(string Name, string ModulePath, Parameter Weight, bool IsEmbedding = false);
