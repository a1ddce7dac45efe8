using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Data.Transcripts;

/// <summary>The labels of a CTC batch: each transcript's token ids, padded with −100 to the batch's longest (HF's <c>DataCollatorCTCWithPadding</c>).</summary>
public static class TranscriptLabels
{
    /// <summary>Padding id: <see cref="Models.Wav2Vec2.Wav2Vec2ForCTC"/> counts only non-negative ids as targets.</summary>
    public const long Padding = -100;

    /// <summary>(B, S) int64: the ids of examples <paramref name="indices"/>, −100 after each one's end.</summary>
    public static Tensor Batch(IReadOnlyList<int[]> ids, ReadOnlySpan<int> indices)
    {
        int longest = 1;
        foreach (int i in indices) longest = Math.Max(longest, ids[i].Length);
        var labels = new long[indices.Length * longest];
        Array.Fill(labels, Padding);
        for (int b = 0; b < indices.Length; b++)
        {
            var row = ids[indices[b]];
            for (int s = 0; s < row.Length; s++) labels[b * longest + s] = row[s];
        }
        return torch.tensor(labels, [indices.Length, longest]); // (B, S)
    }

    /// <summary>
    /// Encodes every transcript with <paramref name="vocabulary"/>; the first one with a character the vocabulary lacks
    /// is an error naming where it is (<paramref name="where"/> of its index) and the fix.
    /// </summary>
    public static int[][] Encode(IReadOnlyList<string> transcripts, Text.CtcVocabulary vocabulary, Func<int, (string Path, string Where)> where)
    {
        var result = new int[transcripts.Count][];
        for (int i = 0; i < transcripts.Count; i++)
        {
            if (!vocabulary.TryEncode(transcripts[i], out var ids, out var missing))
            {
                var (path, place) = where(i);
                throw new InvalidInputException(path,
                    $"{place}: the transcript '{transcripts[i]}' has the character '{missing}', which the vocabulary (data.vocab) lacks; add it to vocab.json (and vocab_size) or remove it from the transcript.");
            }
            result[i] = ids;
        }
        return result;
    }
}
