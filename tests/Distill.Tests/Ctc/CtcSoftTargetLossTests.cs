using Distill.Losses;
using Distill.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Ctc;

public sealed class CtcSoftTargetLossTests
{
    // (B = 2, T = 3, V = 3); clip 1 has 3 real frames, clip 2 only its first.
    private static readonly double[,,] Student =
    {
        { { 1.0, 0.5, -1.0 }, { 0.2, 0.1, 0.0 }, { -0.3, 2.0, 0.7 } },
        { { 0.0, 1.5, -0.5 }, { 9.0, -9.0, 3.0 }, { -4.0, 4.0, 0.0 } },
    };
    private static readonly double[,,] Teacher =
    {
        { { 2.0, -1.0, 0.0 }, { 0.0, 0.0, 1.0 }, { 1.0, 1.0, -2.0 } },
        { { -1.0, 0.5, 2.5 }, { 0.0, 5.0, 0.0 }, { 3.0, 0.0, 0.0 } },
    };
    private static readonly int[,] Mask = { { 1, 1, 1 }, { 1, 0, 0 } };

    /// <summary>T² · mean over the real frames of Σ_v p_t(v) (log p_t(v) − log p_s(v)), in plain loops.</summary>
    private static double ByHand(double temperature)
    {
        double sum = 0;
        int frames = 0;
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < 3; t++)
            {
                if (Mask[b, t] == 0) continue;
                double[] ps = Softmax(Student, b, t, temperature), pt = Softmax(Teacher, b, t, temperature);
                double kl = 0;
                for (int v = 0; v < 3; v++) kl += pt[v] * (Math.Log(pt[v]) - Math.Log(ps[v]));
                sum += kl;
                frames++;
            }
        return sum / frames * temperature * temperature;
    }

    private static double[] Softmax(double[,,] z, int b, int t, double temperature)
    {
        double max = double.NegativeInfinity;
        for (int v = 0; v < 3; v++) max = Math.Max(max, z[b, t, v] / temperature);
        var e = new double[3];
        double total = 0;
        for (int v = 0; v < 3; v++) total += e[v] = Math.Exp(z[b, t, v] / temperature - max);
        for (int v = 0; v < 3; v++) e[v] /= total;
        return e;
    }

    private static Tensor Logits(double[,,] z) => torch.tensor(z.Cast<double>().Select(x => (float)x).ToArray(), [2, 3, 3]);

    private static Tensor FrameMask() => torch.tensor(Mask.Cast<int>().Select(m => m == 1).ToArray(), [2, 3]);

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(4.0)]
    public void MaskedFrameKlMatchesAHandComputedValue(double temperature)
    {
        using var _ = torch.NewDisposeScope();
        double got = CtcSoftTargetLoss.FrameKd(Logits(Student), Logits(Teacher), FrameMask(), temperature).item<float>();
        Assert.Equal(ByHand(temperature), got, 5);
    }

    [Fact]
    public void PaddedFramesDoNotChangeTheValue()
    {
        using var _ = torch.NewDisposeScope();
        var s = Logits(Student);
        var moved = s.clone();
        moved[1, 1] = torch.tensor(new float[] { -50, 50, 7 });
        moved[1, 2] = torch.tensor(new float[] { 30, 0, -30 });
        float a = CtcSoftTargetLoss.FrameKd(s, Logits(Teacher), FrameMask(), 2).item<float>();
        float b = CtcSoftTargetLoss.FrameKd(moved, Logits(Teacher), FrameMask(), 2).item<float>();
        Assert.Equal(a, b);
        // Without a mask every frame counts, and the value differs.
        Assert.NotEqual(a, CtcSoftTargetLoss.FrameKd(moved, Logits(Teacher), null, 2).item<float>(), 3);
    }

    [Fact]
    public void TheTermMixesFrameKdWithTheStudentsCtcLoss()
    {
        using var _ = torch.NewDisposeScope();
        var ctc = torch.tensor(3.25f);
        var student = new ModelOutput(Logits(Student)) { Loss = ctc };
        var teacher = new ModelOutput(Logits(Teacher));
        var batch = new Batch(new Dictionary<string, Tensor> { ["input_values"] = torch.zeros(2, 10) }, null);
        var context = new DistillContext(batch, student, teacher, new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>());
        var term = new CtcSoftTargetLoss("kd", 1, 2, 0.25);
        // A plain ModelOutput has no frame mask: every frame is real.
        double kdAll = CtcSoftTargetLoss.FrameKd(Logits(Student), Logits(Teacher), null, 2).item<float>();
        Assert.Equal(0.25 * kdAll + 0.75 * 3.25, term.Compute(context).item<float>(), 5);
        var labelFree = new DistillContext(batch, new ModelOutput(Logits(Student)), teacher, new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>());
        Assert.Throws<InvalidOperationException>(() => term.Compute(labelFree));
        Assert.Equal(kdAll, new CtcSoftTargetLoss("kd", 1, 2, 1).Compute(labelFree).item<float>(), 5);
    }

    [Fact]
    public void ClassLogitsAreRefusedWithAPointerToSoftTarget()
    {
        using var _ = torch.NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => CtcSoftTargetLoss.FrameKd(torch.zeros(2, 3), torch.zeros(2, 3), null, 2));
        Assert.Contains("soft_target", e.Message);
    }
}
