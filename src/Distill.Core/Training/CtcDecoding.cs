using Distill.Models;
using Distill.Models.Wav2Vec2;
using Distill.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>Greedy CTC transcriptions of a batch: the per-frame argmax over the vocabulary, cut to each clip's real frame count, decoded by <see cref="CtcVocabulary.Decode"/>.</summary>
public static class CtcDecoding
{
    /// <summary>The clip's real frames: the frame mask of a wav2vec2 output (from the batch's attention_mask), else every frame.</summary>
    public static long[] FrameCounts(ModelOutput output)
    {
        long batch = output.Logits.shape[0], frames = output.Logits.shape[1];
        if (output is Wav2Vec2HeadOutput { Base.FeatureAttentionMask: { } mask })
            return mask.sum(1).to_type(ScalarType.Int64).cpu().data<long>().ToArray(); // (B,) real frames
        return [.. Enumerable.Repeat(frames, (int)batch)];
    }

    /// <summary>One transcription per clip of <paramref name="output"/> (logits (B, T, vocab)).</summary>
    public static string[] Greedy(ModelOutput output, CtcVocabulary vocabulary)
    {
        var logits = output.Logits;
        if (logits.dim() != 3)
            throw new ArgumentException($"CTC decoding reads per-frame logits (batch, frames, vocab), got shape ({string.Join(", ", logits.shape)}); the model is not a CTC model.");
        if (logits.shape[2] != vocabulary.Count)
            throw new ArgumentException($"the model predicts {logits.shape[2]} tokens per frame but the vocabulary has {vocabulary.Count}; set the model's vocab_size to {vocabulary.Count} or use the vocab.json it was trained with.");
        long frames = logits.shape[1];
        var ids = logits.argmax(-1).to_type(ScalarType.Int64).cpu().data<long>().ToArray(); // (B·T) argmax ids
        var counts = FrameCounts(output);
        var texts = new string[counts.Length];
        for (int b = 0; b < counts.Length; b++)
            texts[b] = vocabulary.Decode(ids.AsSpan((int)(b * frames), (int)Math.Min(counts[b], frames)));
        return texts;
    }
}
