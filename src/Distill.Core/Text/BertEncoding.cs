namespace Distill.Text;

/// <summary>One tokenized example as BERT consumes it (HF names: input_ids, token_type_ids, attention_mask).</summary>
/// <param name="InputIds">[CLS] A [SEP] (B [SEP]), then [PAD] ids when padded.</param>
/// <param name="TokenTypeIds">Segment ids: 0 for the first text and its specials, 1 for the pair text and its [SEP]; 0 on padding.</param>
/// <param name="AttentionMask">1 for real tokens, 0 for padding.</param>
public sealed record BertEncoding(int[] InputIds, int[] TokenTypeIds, int[] AttentionMask)
{
    public int Length => InputIds.Length;

    /// <summary>Right-pads to <paramref name="length"/> (no-op when already that long or longer).</summary>
    public BertEncoding PadTo(int length, int padTokenId)
    {
        if (length <= Length) return this;
        var ids = new int[length];
        var types = new int[length];
        var mask = new int[length];
        InputIds.CopyTo(ids, 0);
        TokenTypeIds.CopyTo(types, 0);
        AttentionMask.CopyTo(mask, 0);
        Array.Fill(ids, padTokenId, Length, length - Length);
        return new BertEncoding(ids, types, mask);
    }
}
