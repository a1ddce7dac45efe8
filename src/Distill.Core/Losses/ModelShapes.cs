namespace Distill.Losses;

/// <summary>Output shapes of one model on a batch of one: every tensor-returning module, hidden states, attention maps.</summary>
public sealed record ModelShapes(
    IReadOnlyDictionary<string, long[]> Modules,
    IReadOnlyList<long[]> Hidden,
    IReadOnlyList<long[]> Attentions);
