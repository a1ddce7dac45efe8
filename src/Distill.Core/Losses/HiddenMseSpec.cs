namespace Distill.Losses;

/// <summary><c>kind: hidden_mse</c> — TinyBERT hidden-state loss: MSE(W·h_student, h_teacher) over mapped layers (W learned when widths differ).</summary>
public sealed record HiddenMseSpec : LossTermSpec
{
    public HiddenMseSpec() => Kind = "hidden_mse";

    /// <summary>Which student layer is matched to which teacher layer.</summary>
    public LayerMapping Layers { get; init; } = LayerMapping.Uniform;
}
