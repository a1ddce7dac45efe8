namespace Distill.Losses;

/// <summary><c>kind: cosine</c> — DistilBERT cosine-embedding loss: 1 − cos(h_student, h_teacher) per token, on mapped layers.</summary>
public sealed record CosineSpec : LossTermSpec
{
    public CosineSpec() => Kind = "cosine";

    public LayerMapping Layers { get; init; } = LayerMapping.Last;
}
