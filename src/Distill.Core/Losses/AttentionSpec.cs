namespace Distill.Losses;

/// <summary><c>kind: attention</c> — attention-map transfer between mapped layers (TinyBERT), by KL or MSE over heads.</summary>
public sealed record AttentionSpec : LossTermSpec
{
    public AttentionSpec() => Kind = "attention";

    public LayerMapping Layers { get; init; } = LayerMapping.Uniform;

    public AttentionLossKind Loss { get; init; } = AttentionLossKind.Kl;
}
