namespace Distill.Losses;

/// <summary><c>kind: hidden_mse</c> — TinyBERT hidden-state loss: MSE(W·h_student, h_teacher) over mapped layers (W learned when widths differ).</summary>
public sealed record HiddenMseSpec : LossTermSpec
{
    public HiddenMseSpec() => Kind = "hidden_mse";

    /// <summary>Which student layer is matched to which teacher layer.</summary>
    public LayerMapping Layers { get; init; } = LayerMapping.Uniform;

    /// <summary>
    /// Leave padded tokens out of the mean (the batch's <c>attention_mask</c>); false compares every position, as TinyBERT
    /// does. A teacher cache of text batches padded to different lengths needs true (it stores the real tokens only).
    /// </summary>
    public bool MaskPadding { get; init; }
}
