using Distill.Losses;
using Distill.Models;
using TorchSharp;
using Xunit;
using static Distill.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

public class HiddenStateMseLossTests
{
    private static HiddenStateMseLoss Build(LayerMapping layers, List<long[]> studentHidden, List<long[]> teacherHidden) =>
        (HiddenStateMseLoss)LossRegistry.Default.Create(
            new HiddenMseSpec { Kind = "hidden_mse", Layers = layers },
            Context(studentHidden.Count - 1, teacherHidden.Count - 1, studentHidden: studentHidden, teacherHidden: teacherHidden));

    private static double Mse(double[] a, double[] b) => a.Zip(b, (x, y) => (x - y) * (x - y)).Sum() / a.Length;

    [Fact]
    public void SharedLinearOverUniformPairsMatchesLoops()
    {
        const int B = 2, Tk = 3, Ds = 4, Dt = 6;
        var term = Build(LayerMapping.Uniform, Repeat([1, Tk, Ds], 3), Repeat([1, Tk, Dt], 5));
        Assert.Equal([(1, 2), (2, 4)], term.Pairs);
        Assert.NotNull(term.Projector);
        Assert.Same(term.Projector, term.Trainable);
        Assert.False(term.Projector!.IsConvolution);

        var w = Values(Dt * Ds, 50); var bias = Values(Dt, 51);
        using (no_grad())
        {
            term.Projector.get_parameter("proj.weight")!.copy_(T(w, [Dt, Ds], ScalarType.Float32));
            term.Projector.get_parameter("proj.bias")!.copy_(T(bias, [Dt], ScalarType.Float32));
        }
        var hs = Enumerable.Range(0, 3).Select(l => Values(B * Tk * Ds, 60 + l)).ToArray();
        var ht = Enumerable.Range(0, 5).Select(l => Values(B * Tk * Dt, 70 + l)).ToArray();

        double expected = 0;
        foreach (var (s, t) in new[] { (1, 2), (2, 4) })
        {
            double sum = 0;
            for (int r = 0; r < B * Tk; r++)
                for (int o = 0; o < Dt; o++)
                {
                    double p = bias[o];
                    for (int i = 0; i < Ds; i++) p += w[o * Ds + i] * hs[s][r * Ds + i];
                    sum += (p - ht[t][r * Dt + o]) * (p - ht[t][r * Dt + o]);
                }
            expected += sum / (B * Tk * Dt);
        }
        expected /= 2;

        var student = new ModelOutput(zeros(B, 2)) { HiddenStates = hs.Select(v => T(v, [B, Tk, Ds], ScalarType.Float32)).ToList() };
        var teacher = new ModelOutput(zeros(B, 2)) { HiddenStates = ht.Select(v => T(v, [B, Tk, Dt], ScalarType.Float32)).ToList() };
        var context = new DistillContext(new Batch(new Dictionary<string, Tensor> { ["x"] = zeros(B) }, null), student, teacher,
            new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>());
        var loss = term.Compute(context);
        Close(expected, Scalar(loss), 1e-5, 1e-7, "hidden_mse");

        loss.backward();
        Assert.True(term.Projector.get_parameter("proj.weight")!.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void EqualWidthsUseNoProjectorAndMayMapTheEmbedding()
    {
        var mapping = LayerMapping.FromYaml(Yaml("[[0, 0], [2, 3]]"), out _)!;
        var term = Build(mapping, Repeat([1, 5], 3), Repeat([1, 5], 4));
        Assert.Null(term.Projector);
        Assert.Null(term.Trainable);
        var hs = Enumerable.Range(0, 3).Select(l => Values(10, 80 + l)).ToArray();
        var ht = Enumerable.Range(0, 4).Select(l => Values(10, 90 + l)).ToArray();
        double expected = (Mse(hs[0], ht[0]) + Mse(hs[2], ht[3])) / 2;
        var loss = HiddenStateMseLoss.Compute(hs.Select(v => T(v, [2, 5])).ToList(), ht.Select(v => T(v, [2, 5])).ToList(), term.Pairs, null);
        Close(expected, Scalar(loss), 1e-12, 1e-14, "hidden_mse identity");
    }

    [Fact]
    public void MaskPaddingAveragesOverTheRealTokensOnly()
    {
        const int B = 2, Tk = 3, D = 4;
        var term = (HiddenStateMseLoss)LossRegistry.Default.Create(
            new HiddenMseSpec { Layers = LayerMapping.Pairs([(1, 1)]), MaskPadding = true },
            Context(1, 1, studentHidden: Repeat([1, Tk, D], 2), teacherHidden: Repeat([1, Tk, D], 2)));
        Assert.True(term.MaskPadding);
        Assert.False(term.TeacherReads.ReadsPaddedTokens);
        double[] hs = Values(B * Tk * D, 60), ht = Values(B * Tk * D, 61);
        long[] mask = [1, 1, 0, 1, 1, 1]; // example 0 has 2 real tokens, example 1 has 3
        double sum = 0;
        int count = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < Tk; t++)
            {
                if (mask[b * Tk + t] == 0) continue;
                for (int d = 0; d < D; d++)
                {
                    int i = (b * Tk + t) * D + d;
                    sum += (hs[i] - ht[i]) * (hs[i] - ht[i]);
                    count++;
                }
            }
        var zeros = T(new double[B * Tk * D], [B, Tk, D]);
        var loss = HiddenStateMseLoss.Compute([zeros, T(hs, [B, Tk, D])], [zeros, T(ht, [B, Tk, D])], term.Pairs, null,
            mask: torch.tensor(mask, [B, Tk]).to(ScalarType.Float32));
        Close(sum / count, Scalar(loss), 1e-12, 1e-14, "hidden_mse mask_padding");
    }

    [Fact]
    public void ImageStatesGetAOneByOneConv()
    {
        var term = Build(LayerMapping.Last, [[1, 3, 8, 8], [1, 4, 4, 4]], [[1, 3, 8, 8], [1, 6, 4, 4]]);
        Assert.True(term.Projector!.IsConvolution);
        Assert.Equal((4L, 6L), (term.Projector.InFeatures, term.Projector.OutFeatures));
    }

    [Fact]
    public void PairsNeedingDifferentProjectorsAreRejected()
    {
        var e = ConfigError(() => Build(LayerMapping.Uniform,
            [[1, 3, 8, 8], [1, 4, 8, 8], [1, 8, 4, 4]], [[1, 3, 8, 8], [1, 4, 8, 8], [1, 8, 4, 4]]));
        Assert.Equal("layers", e.Key);
        Assert.Contains("one projector", e.Message);
    }

    [Fact]
    public void MappingAndShapeMisfitsAreConfigErrorsAtLayers()
    {
        var uniform = ConfigError(() => Build(LayerMapping.Uniform, Repeat([1, 3, 4], 4), Repeat([1, 3, 4], 5)));
        Assert.Equal("layers", uniform.Key);
        Assert.Contains("multiple", uniform.Message);

        var spatial = ConfigError(() => Build(LayerMapping.Last, [[1, 3, 8, 8], [1, 4, 8, 8]], [[1, 3, 8, 8], [1, 4, 4, 4]]));
        Assert.Equal("layers", spatial.Key);
        Assert.Contains("spatial", spatial.Message);

        var none = ConfigError(() => LossRegistry.Default.Create(new HiddenMseSpec { Kind = "hidden_mse" }, Context(2, 4)));
        Assert.Equal("kind", none.Key);
    }

    [Fact]
    public void RuntimeShapeMismatchIsAClearError()
    {
        var pairs = new List<(int, int)> { (1, 1) };
        var e = Assert.Throws<InvalidOperationException>(() =>
            HiddenStateMseLoss.Compute([zeros(2, 3, 4), zeros(2, 3, 4)], [zeros(2, 5, 4), zeros(2, 5, 4)], pairs, null));
        Assert.Contains("(2, 3, 4)", e.Message);
        Assert.Throws<InvalidOperationException>(() => HiddenStateMseLoss.Compute([zeros(2, 4)], [zeros(2, 4), zeros(2, 4)], pairs, null));
    }
}
