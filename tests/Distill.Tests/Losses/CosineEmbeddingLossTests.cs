using Distill.Losses;
using Distill.Models;
using Xunit;
using static Distill.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

public class CosineEmbeddingLossTests
{
    private static double OneMinusCos(double[] a, int aOffset, double[] b, int bOffset, int n, int stride)
    {
        double dot = 0, na = 0, nb = 0;
        for (int k = 0; k < n; k++)
        {
            double x = a[aOffset + k * stride], y = b[bOffset + k * stride];
            dot += x * y; na += x * x; nb += y * y;
        }
        return 1 - dot / Math.Max(Math.Sqrt(na) * Math.Sqrt(nb), 1e-8);
    }

    [Fact]
    public void MaskedTokenMeanOverLastLayersMatchesLoops()
    {
        const int B = 2, Tk = 3, D = 4;
        long[] mask = [1, 1, 0, 1, 1, 1];
        var term = (CosineEmbeddingLoss)LossRegistry.Default.Create(new CosineSpec { Kind = "cosine" },
            Context(2, 4, studentHidden: Repeat([1, Tk, D], 3), teacherHidden: Repeat([1, Tk, D], 5)));
        Assert.Equal([(2, 4)], term.Pairs); // default mapping: last
        Assert.Null(term.Trainable);
        Assert.False(term.NeedsAttentions);

        var hs = Enumerable.Range(0, 3).Select(l => Values(B * Tk * D, 100 + l)).ToArray();
        var ht = Enumerable.Range(0, 5).Select(l => Values(B * Tk * D, 110 + l)).ToArray();
        double sum = 0; int count = 0;
        for (int r = 0; r < B * Tk; r++)
            if (mask[r] == 1) { sum += OneMinusCos(hs[2], r * D, ht[4], r * D, D, 1); count++; }

        var student = new ModelOutput(zeros(B, 2)) { HiddenStates = hs.Select(v => T(v, [B, Tk, D]).requires_grad_(true)).ToList() };
        var teacher = new ModelOutput(zeros(B, 2)) { HiddenStates = ht.Select(v => T(v, [B, Tk, D])).ToList() };
        var batch = new Batch(new Dictionary<string, Tensor> { ["attention_mask"] = tensor(mask, [B, Tk]) }, null);
        var loss = term.Compute(new DistillContext(batch, student, teacher, new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>()));
        Close(sum / count, Scalar(loss), 1e-12, 1e-14, "masked cosine");

        loss.backward();
        Assert.True(student.HiddenStates[2].grad!.abs().sum().item<double>() > 0);
        // the padded token gets no gradient
        Assert.Equal(0.0, student.HiddenStates[2].grad![0, 2].abs().sum().item<double>());
    }

    [Fact]
    public void UnmaskedAndMultiPairAverage()
    {
        const int B = 3, D = 5;
        var hs = Enumerable.Range(0, 2).Select(l => Values(B * D, 120 + l)).ToArray();
        var ht = Enumerable.Range(0, 3).Select(l => Values(B * D, 130 + l)).ToArray();
        double expected = 0;
        foreach (var (s, t) in new[] { (0, 0), (1, 2) })
        {
            double sum = 0;
            for (int r = 0; r < B; r++) sum += OneMinusCos(hs[s], r * D, ht[t], r * D, D, 1);
            expected += sum / B;
        }
        expected /= 2;
        var loss = CosineEmbeddingLoss.Compute(hs.Select(v => T(v, [B, D])).ToList(), ht.Select(v => T(v, [B, D])).ToList(), [(0, 0), (1, 2)], null);
        Close(expected, Scalar(loss), 1e-12, 1e-14, "cosine (B, D)");
    }

    [Fact]
    public void ImageStatesUseChannelsAtEachPixel()
    {
        const int B = 2, C = 3, H = 2, W = 2;
        var a = Values(B * C * H * W, 140); var b = Values(B * C * H * W, 141);
        double sum = 0;
        for (int n = 0; n < B; n++)
            for (int p = 0; p < H * W; p++)
                sum += OneMinusCos(a, n * C * H * W + p, b, n * C * H * W + p, C, H * W);
        var loss = CosineEmbeddingLoss.PairLoss(T(a, [B, C, H, W]), T(b, [B, C, H, W]), null);
        Close(sum / (B * H * W), Scalar(loss), 1e-12, 1e-14, "cosine (B, C, H, W)");
    }

    [Fact]
    public void WidthMismatchIsAConfigErrorAtLayers()
    {
        var e = ConfigError(() => LossRegistry.Default.Create(new CosineSpec { Kind = "cosine" },
            Context(2, 4, studentHidden: Repeat([1, 3, 16], 3), teacherHidden: Repeat([1, 3, 32], 5))));
        Assert.Equal("layers", e.Key);
        Assert.Contains("hidden_mse", e.Message);
    }
}
