using Distill.Losses;
using Distill.Models;
using TorchSharp;
using Xunit;
using static Distill.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

public class HintLossTests
{
    private static HintLoss Build(long[] studentShape, long[] teacherShape, string studentPath = "s.block", string teacherPath = "t.block") =>
        (HintLoss)LossRegistry.Default.Create(
            new HintSpec { Kind = "hint", Student = studentPath, Teacher = teacherPath },
            Context(studentModules: new() { ["s.block"] = studentShape, ["s.other"] = [1, 2] },
                    teacherModules: new() { ["t.block"] = teacherShape }));

    private static void SetWeights(FeatureProjector projector, double[] weight, double[] bias)
    {
        using var _ = no_grad();
        var w = projector.get_parameter("proj.weight")!;
        w.copy_(torch.tensor(weight, w.shape).to_type(w.dtype));
        var b = projector.get_parameter("proj.bias")!;
        b.copy_(torch.tensor(bias, b.shape).to_type(b.dtype));
    }

    [Fact]
    public void LinearProjectorForTokenFeaturesMatchesLoops()
    {
        const int B = 2, Tk = 3, Ds = 4, Dt = 5;
        var term = Build([1, Tk, Ds], [1, Tk, Dt]);
        Assert.False(term.Projector.IsConvolution);
        Assert.Equal((Ds, Dt), (term.Projector.InFeatures, term.Projector.OutFeatures));
        Assert.Equal(["proj.bias", "proj.weight"], term.Projector.state_dict().Keys.Order());
        Assert.Same(term.Projector, term.Trainable);

        var w = Values(Dt * Ds, 10); var bias = Values(Dt, 11);
        SetWeights(term.Projector, w, bias);
        var x = Values(B * Tk * Ds, 12); var y = Values(B * Tk * Dt, 13);

        double expected = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < Tk; t++)
                for (int o = 0; o < Dt; o++)
                {
                    double p = bias[o];
                    for (int i = 0; i < Ds; i++) p += w[o * Ds + i] * x[(b * Tk + t) * Ds + i];
                    double d = p - y[(b * Tk + t) * Dt + o];
                    expected += d * d;
                }
        expected /= B * Tk * Dt;

        var context = new DistillContext(new Batch(new Dictionary<string, Tensor> { ["x"] = zeros(B) }, null),
            new ModelOutput(zeros(B, 2)), new ModelOutput(zeros(B, 2)),
            new Dictionary<string, Tensor> { ["s.block"] = T(x, [B, Tk, Ds], ScalarType.Float32) },
            new Dictionary<string, Tensor> { ["t.block"] = T(y, [B, Tk, Dt], ScalarType.Float32) });
        Close(expected, Scalar(term.Compute(context)), 1e-5, 1e-7, "hint mse");
    }

    [Fact]
    public void OneByOneConvProjectorForImageFeaturesMatchesLoops()
    {
        const int B = 2, Cs = 3, Ct = 5, H = 4, W = 3;
        var term = Build([1, Cs, H, W], [1, Ct, H, W]);
        Assert.True(term.Projector.IsConvolution);
        Assert.Equal(new long[] { Ct, Cs, 1, 1 }, term.Projector.get_parameter("proj.weight")!.shape);

        var w = Values(Ct * Cs, 20); var bias = Values(Ct, 21);
        SetWeights(term.Projector, w, bias);
        var x = Values(B * Cs * H * W, 22); var y = Values(B * Ct * H * W, 23);

        double expected = 0;
        for (int b = 0; b < B; b++)
            for (int o = 0; o < Ct; o++)
                for (int h = 0; h < H; h++)
                    for (int v = 0; v < W; v++)
                    {
                        double p = bias[o];
                        for (int c = 0; c < Cs; c++) p += w[o * Cs + c] * x[((b * Cs + c) * H + h) * W + v];
                        double d = p - y[((b * Ct + o) * H + h) * W + v];
                        expected += d * d;
                    }
        expected /= B * Ct * H * W;

        var loss = HintLoss.Compute(T(x, [B, Cs, H, W], ScalarType.Float32), T(y, [B, Ct, H, W], ScalarType.Float32), term.Projector);
        Close(expected, Scalar(loss), 1e-5, 1e-7, "hint conv mse");
    }

    [Fact]
    public void VectorFeaturesGetALinearProjector()
    {
        var term = Build([1, 8], [1, 3]);
        Assert.False(term.Projector.IsConvolution);
        Assert.Equal(new long[] { 3, 8 }, term.Projector.get_parameter("proj.weight")!.shape);
    }

    [Fact]
    public void EqualWidthsStartAtIdentity()
    {
        var term = Build([1, 3, 4], [1, 3, 4]);
        var x = Values(2 * 3 * 4, 30); var y = Values(2 * 3 * 4, 31);
        double expected = x.Zip(y, (a, b) => (a - b) * (a - b)).Sum() / x.Length;
        var loss = HintLoss.Compute(T(x, [2, 3, 4], ScalarType.Float32), T(y, [2, 3, 4], ScalarType.Float32), term.Projector);
        Close(expected, Scalar(loss), 1e-5, 1e-7, "identity projector");

        var conv = Build([1, 2, 3, 3], [1, 2, 3, 3]);
        var xi = T(Values(2 * 9, 32), [1, 2, 3, 3], ScalarType.Float32);
        Assert.True(allclose(conv.Projector.call(xi), xi));
    }

    [Fact]
    public void GradientsReachProjectorAndStudentButNotTeacher()
    {
        var term = Build([1, 3, 4], [1, 3, 6]);
        var student = T(Values(2 * 3 * 4, 40), [2, 3, 4], ScalarType.Float32).requires_grad_(true);
        var teacher = T(Values(2 * 3 * 6, 41), [2, 3, 6], ScalarType.Float32).requires_grad_(true);
        HintLoss.Compute(student, teacher, term.Projector).backward();
        foreach (var (name, p) in term.Projector.named_parameters())
        {
            Assert.NotNull(p.grad);
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{name} has a zero gradient");
        }
        Assert.True(student.grad!.abs().sum().item<float>() > 0);
        Assert.Null(teacher.grad);
    }

    [Fact]
    public void SpatialMismatchIsAConfigErrorAtStudent()
    {
        var e = ConfigError(() => Build([1, 3, 8, 8], [1, 5, 4, 4]));
        Assert.Equal("student", e.Key);
        Assert.Contains("(1, 3, 8, 8)", e.Message);
        Assert.Contains("(1, 5, 4, 4)", e.Message);
        Assert.Contains("spatial", e.Message);
    }

    [Theory]
    [InlineData(new long[] { 1, 3, 8, 8 }, new long[] { 1, 16 }, "rank")]
    [InlineData(new long[] { 1, 5, 8 }, new long[] { 1, 6, 8 }, "tokens")]
    [InlineData(new long[] { 1, 2, 3, 4, 5 }, new long[] { 1, 2, 3, 4, 5 }, "not supported")]
    public void UnrelatableShapesAreConfigErrorsAtStudent(long[] student, long[] teacher, string why)
    {
        var e = ConfigError(() => Build(student, teacher));
        Assert.Equal("student", e.Key);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void UnknownModulePathsNameTheirKey()
    {
        var s = ConfigError(() => Build([1, 4], [1, 4], studentPath: "s.blok"));
        Assert.Equal("student", s.Key);
        Assert.Contains("'s.blok'", s.Message);
        Assert.Contains("s.block", s.Message); // a suggestion
        var t = ConfigError(() => Build([1, 4], [1, 4], teacherPath: "t.nope"));
        Assert.Equal("teacher", t.Key);
    }

    [Fact]
    public void DeclaresItsTaps()
    {
        var term = Build([1, 4], [1, 4]);
        Assert.Equal(["s.block"], term.StudentTaps);
        Assert.Equal(["t.block"], term.TeacherReads.Taps);
        Assert.False(term.NeedsAttentions);
    }
}
