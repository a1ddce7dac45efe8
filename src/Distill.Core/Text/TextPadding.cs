namespace Distill.Text;

/// <summary>How tokenized texts are padded (HF's <c>padding=</c> argument).</summary>
public enum TextPadding
{
    /// <summary>No padding: each encoding keeps its own length.</summary>
    None,

    /// <summary>Pad every encoding of a batch to the batch's longest (HF <c>padding=True</c> / <c>"longest"</c>).</summary>
    Longest,

    /// <summary>Pad to exactly <c>max_length</c> (HF <c>padding="max_length"</c>).</summary>
    MaxLength,
}
