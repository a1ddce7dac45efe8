using Distill.Losses;
using Distill.Models;
using Xunit;
using static Distill.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

public class AttentionMapLossTests
{
    private const int B = 2, H = 2, Tk = 4;
    private static readonly long[] Mask = [1, 1, 1, 0, 1, 1, 1, 1]; // example 0 has one padded token

    /// <summary>Softmax probabilities over keys with padded keys at exactly 0, as BERT produces them; (B, H, T, T) row-major.</summary>
    private static double[] Probabilities(int seed, long[]? keyMask = null)
    {
        var scores = Values(B * H * Tk * Tk, seed).Select(v => v * 3).ToArray();
        var p = new double[scores.Length];
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++)
                for (int i = 0; i < Tk; i++)
                {
                    int row = ((b * H + h) * Tk + i) * Tk;
                    double sum = 0;
                    for (int j = 0; j < Tk; j++)
                        sum += p[row + j] = keyMask is null || keyMask[b * Tk + j] == 1 ? Math.Exp(scores[row + j]) : 0;
                    for (int j = 0; j < Tk; j++) p[row + j] /= sum;
                }
        return p;
    }

    private static double Expected(double[] s, double[] t, AttentionLossKind kind, long[]? mask)
    {
        double total = 0; int rows = 0;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < Tk; i++)
            {
                if (mask is not null && mask[b * Tk + i] == 0) continue;
                rows++;
                for (int h = 0; h < H; h++)
                    for (int j = 0; j < Tk; j++)
                    {
                        int k = ((b * H + h) * Tk + i) * Tk + j;
                        if (kind == AttentionLossKind.Mse) total += (s[k] - t[k]) * (s[k] - t[k]);
                        else if (t[k] > 0) total += t[k] * (Math.Log(t[k]) - Math.Log(Math.Max(s[k], 1e-12)));
                    }
            }
        return kind == AttentionLossKind.Mse ? total / (rows * H * Tk) : total / (rows * H);
    }

    private static AttentionMapLoss Build(AttentionLossKind kind, LayerMapping? layers = null, long studentHeads = H, long teacherHeads = H,
        int studentLayers = 2, int teacherLayers = 4, bool attentions = true) =>
        (AttentionMapLoss)LossRegistry.Default.Create(
            new AttentionSpec { Kind = "attention", Loss = kind, Layers = layers ?? LayerMapping.Uniform },
            Context(studentLayers, teacherLayers,
                studentAttention: attentions ? Repeat([1, studentHeads, 7, 7], studentLayers) : [],
                teacherAttention: attentions ? Repeat([1, teacherHeads, 7, 7], teacherLayers) : []));

    [Theory]
    [InlineData(AttentionLossKind.Mse)]
    [InlineData(AttentionLossKind.Kl)]
    public void MaskedLossOverUniformPairsMatchesLoops(AttentionLossKind kind)
    {
        var term = Build(kind);
        Assert.True(term.NeedsAttentions);
        Assert.Equal([(1, 2), (2, 4)], term.Pairs);
        var s = new[] { Probabilities(1, Mask), Probabilities(2, Mask) };
        var t = new[] { Probabilities(3, Mask), Probabilities(4, Mask), Probabilities(5, Mask), Probabilities(6, Mask) };
        double expected = (Expected(s[0], t[1], kind, Mask) + Expected(s[1], t[3], kind, Mask)) / 2;

        long[] shape = [B, H, Tk, Tk];
        var student = new ModelOutput(zeros(B, 2)) { Attentions = s.Select(v => T(v, shape)).ToList() };
        var teacher = new ModelOutput(zeros(B, 2)) { Attentions = t.Select(v => T(v, shape)).ToList() };
        var batch = new Batch(new Dictionary<string, Tensor> { ["input_ids"] = zeros(B, Tk, ScalarType.Int64), ["attention_mask"] = tensor(Mask, [B, Tk]) }, null);
        var loss = term.Compute(new DistillContext(batch, student, teacher, new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>()));
        Close(expected, Scalar(loss), 1e-12, 1e-14, kind.ToString());

        // The mask matters: without it the padded query row of example 0 counts.
        double unmasked = (Expected(s[0], t[1], kind, null) + Expected(s[1], t[3], kind, null)) / 2;
        Assert.NotEqual(expected, unmasked, 6);
        var loss2 = AttentionMapLoss.Compute(student.Attentions, teacher.Attentions, term.Pairs, kind, null);
        Close(unmasked, Scalar(loss2), 1e-12, 1e-14, kind + " unmasked");
    }

    [Fact]
    public void KlStaysFiniteWhereTheStudentRulesOutAKey()
    {
        var s = Probabilities(7, Mask);  // zero on example 0's padded key
        var t = Probabilities(8);        // teacher puts mass everywhere
        double expected = Expected(s, t, AttentionLossKind.Kl, null);
        var loss = AttentionMapLoss.PairLoss(T(s, [B, H, Tk, Tk]), T(t, [B, H, Tk, Tk]), AttentionLossKind.Kl, null);
        Assert.True(double.IsFinite(Scalar(loss)));
        Close(expected, Scalar(loss), 1e-12, 1e-14, "clamped kl");
    }

    [Fact]
    public void GradientReachesStudentOnly()
    {
        var s = T(Probabilities(9), [B, H, Tk, Tk]).requires_grad_(true);
        var t = T(Probabilities(10), [B, H, Tk, Tk]).requires_grad_(true);
        AttentionMapLoss.PairLoss(s, t, AttentionLossKind.Kl, tensor(Mask, [B, Tk])).backward();
        Assert.True(s.grad!.abs().sum().item<double>() > 0);
        Assert.Null(t.grad);
    }

    [Fact]
    public void HeadCountMismatchIsAConfigErrorAtLayers()
    {
        var e = ConfigError(() => Build(AttentionLossKind.Kl, studentHeads: 2, teacherHeads: 4));
        Assert.Equal("layers", e.Key);
        Assert.Contains("heads", e.Message);
    }

    [Fact]
    public void EmbeddingLayerAndMissingAttentionsAreRejected()
    {
        var zero = ConfigError(() => Build(AttentionLossKind.Mse, LayerMapping.Pairs([(0, 0)])));
        Assert.Equal("layers", zero.Key);
        var none = ConfigError(() => Build(AttentionLossKind.Mse, attentions: false));
        Assert.Equal("kind", none.Key);
        var uneven = ConfigError(() => Build(AttentionLossKind.Mse, studentLayers: 3, teacherLayers: 4));
        Assert.Equal("layers", uneven.Key);
    }

    [Fact]
    public void MaskOfAnotherLengthIsAClearError()
    {
        var term = Build(AttentionLossKind.Mse, LayerMapping.Last);
        long[] shape = [B, H, Tk, Tk];
        var output = new ModelOutput(zeros(B, 2)) { Attentions = Enumerable.Range(0, 4).Select(_ => zeros(shape)).ToList() };
        var batch = new Batch(new Dictionary<string, Tensor> { ["attention_mask"] = ones(B, 100, ScalarType.Int64) }, null);
        var e = Assert.Throws<InvalidOperationException>(() =>
            term.Compute(new DistillContext(batch, output, output, new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>())));
        Assert.Contains("attention_mask", e.Message);
    }
}
