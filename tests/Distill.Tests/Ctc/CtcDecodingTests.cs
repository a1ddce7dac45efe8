using Distill.Models.Wav2Vec2;
using Distill.Text;
using Distill.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Ctc;

public sealed class CtcDecodingTests
{
    /// <summary>One-hot logits (B, T, V) of the given per-frame ids.</summary>
    private static Tensor OneHot(long[][] ids, int vocab)
    {
        var z = torch.zeros(ids.Length, ids[0].Length, vocab);
        for (int b = 0; b < ids.Length; b++)
            for (int t = 0; t < ids[b].Length; t++) z[b, t, ids[b][t]] = torch.tensor(5f);
        return z;
    }

    [Fact]
    public void EachClipIsDecodedOverItsOwnRealFramesOnly()
    {
        using var _ = torch.NewDisposeScope();
        var v = CtcVocabulary.FromTranscripts(["no on"]); // n = 5, o = 6
        // clip 1: n n _ o | o n (all 7 frames real) → "no on"; clip 2: o n then padding frames that would add "no".
        var logits = OneHot([[5, 5, 0, 6, 4, 6, 5], [6, 5, 0, 5, 6, 0, 0]], v.Count);
        var mask = torch.tensor(new[] { true, true, true, true, true, true, true, true, true, false, false, false, false, false }, [2, 7]);
        var output = new Wav2Vec2HeadOutput(logits, new Wav2Vec2ModelOutput(torch.zeros(2, 7, 4), torch.zeros(2, 7, 4)) { FeatureAttentionMask = mask });
        Assert.Equal(new long[] { 7, 2 }, CtcDecoding.FrameCounts(output));
        Assert.Equal(["no on", "on"], CtcDecoding.Greedy(output, v));
        // Without a frame mask every frame is read.
        Assert.Equal(["no on", "onno"], CtcDecoding.Greedy(new Distill.Models.ModelOutput(logits), v));
    }

    [Fact]
    public void AHeadOfAnotherWidthThanTheVocabularyIsRefused()
    {
        using var _ = torch.NewDisposeScope();
        var v = CtcVocabulary.FromTranscripts(["ab"]);
        var e = Assert.Throws<ArgumentException>(() => CtcDecoding.Greedy(new Distill.Models.ModelOutput(torch.zeros(1, 3, 32)), v));
        Assert.Contains("vocab_size to 7", e.Message);
    }
}
