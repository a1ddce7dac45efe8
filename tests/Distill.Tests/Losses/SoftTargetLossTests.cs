using System.Text.Json;
using Distill.Checkpoints;
using Distill.Losses;
using Distill.Models;
using Xunit;
using static Distill.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace Distill.Tests.Losses;

public class SoftTargetLossTests
{
    private static readonly string RefDir =
        Path.Combine(TestPaths.Hf("bert-tiny-random-student-BertForSequenceClassification"), "reference");

    private static (Dictionary<string, Tensor> Tensors, double T, double Alpha) Reference()
    {
        var tensors = SafeTensors.Load(Path.Combine(RefDir, "kd_reference.safetensors"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(RefDir, "kd_reference.json")));
        return (tensors, json.RootElement.GetProperty("temperature").GetDouble(), json.RootElement.GetProperty("alpha").GetDouble());
    }

    [Fact]
    public void MatchesPyTorchReferenceValues()
    {
        var (r, temperature, alpha) = Reference();
        Assert.Equal(2.0, temperature);
        Assert.Equal(0.5, alpha);
        var parts = SoftTargetLoss.Compute(r["student_logits"], r["teacher_logits"], r["labels"], temperature, alpha);
        Close(Scalar(r["kd_loss"]), Scalar(parts.Kd), 1e-4, 1e-6, "kd_loss");
        Close(Scalar(r["ce_loss"]), Scalar(parts.Ce!), 1e-4, 1e-6, "ce_loss");
        Close(Scalar(r["total_loss"]), Scalar(parts.Total), 1e-4, 1e-6, "total_loss");
    }

    /// <summary>
    /// d total / d z_s = alpha·T·(softmax(z_s/T) − softmax(z_t/T))/B + (1 − alpha)·(softmax(z_s) − onehot(y))/B,
    /// evaluated here in float64 from the reference logits.
    /// </summary>
    [Fact]
    public void GradientWrtStudentLogitsMatchesClosedForm()
    {
        var (r, temperature, alpha) = Reference();
        var zs = D(r["student_logits"]);
        var zt = D(r["teacher_logits"]);
        var y = r["labels"].data<long>().ToArray();
        int rows = y.Length, classes = zs.Length / rows;

        var logits = r["student_logits"].clone().requires_grad_(true);
        SoftTargetLoss.Compute(logits, r["teacher_logits"], r["labels"], temperature, alpha).Total.backward();
        var grad = D(logits.grad!);

        var expected = new double[zs.Length];
        for (int b = 0; b < rows; b++)
        {
            var ps = Softmax(zs, b, classes, temperature);
            var pt = Softmax(zt, b, classes, temperature);
            var p1 = Softmax(zs, b, classes, 1);
            for (int c = 0; c < classes; c++)
                expected[b * classes + c] = alpha * temperature * (ps[c] - pt[c]) / rows
                                            + (1 - alpha) * (p1[c] - (y[b] == c ? 1 : 0)) / rows;
        }
        for (int i = 0; i < expected.Length; i++) Close(expected[i], grad[i], 1e-4, 1e-7, $"grad[{i}]");

        // PyTorch's own gradient of the classifier bias is the column sum of d total / d z_s.
        var biasGrad = D(r["grad.classifier.bias"]);
        for (int c = 0; c < classes; c++)
            Close(biasGrad[c], Enumerable.Range(0, rows).Sum(b => grad[b * classes + c]), 1e-4, 1e-7, $"grad.classifier.bias[{c}]");
    }

    [Fact]
    public void MatchesDoubleLoopFormulaAtOtherSettings()
    {
        const int rows = 4, classes = 5;
        const double temperature = 3.0, alpha = 0.3;
        var zs = Values(rows * classes, 1).Select(v => v * 4).ToArray();
        var zt = Values(rows * classes, 2).Select(v => v * 4).ToArray();
        long[] y = [0, 4, 2, 2];

        var parts = SoftTargetLoss.Compute(T(zs, [rows, classes]), T(zt, [rows, classes]), tensor(y), temperature, alpha);

        double kl = 0, ce = 0;
        for (int b = 0; b < rows; b++)
        {
            var ps = Softmax(zs, b, classes, temperature);
            var pt = Softmax(zt, b, classes, temperature);
            for (int c = 0; c < classes; c++) kl += pt[c] * (Math.Log(pt[c]) - Math.Log(ps[c]));
            ce -= Math.Log(Softmax(zs, b, classes, 1)[y[b]]);
        }
        double kd = kl / rows * temperature * temperature;
        ce /= rows;
        Close(kd, Scalar(parts.Kd), 1e-10, 1e-12, "kd");
        Close(ce, Scalar(parts.Ce!), 1e-10, 1e-12, "ce");
        Close(alpha * kd + (1 - alpha) * ce, Scalar(parts.Total), 1e-10, 1e-12, "total");
    }

    [Fact]
    public void AlphaOneNeedsNoLabels()
    {
        var zs = T(Values(6, 3), [3, 2]);
        var zt = T(Values(6, 4), [3, 2]);
        var parts = SoftTargetLoss.Compute(zs, zt, null, 2, 1);
        Assert.Null(parts.Ce);
        Close(Scalar(parts.Kd), Scalar(parts.Total), 0, 1e-15, "total = kd");
        Assert.Throws<ArgumentException>(() => SoftTargetLoss.Compute(zs, zt, null, 2, 0.5));
    }

    [Fact]
    public void TermReadsModelOutputsAndRejectsMissingLabels()
    {
        var term = LossRegistry.Default.Create(new SoftTargetSpec { Kind = "soft_target", Temperature = 2, Alpha = 0.5 }, Context());
        Assert.Equal("soft_target", term.Name);
        Assert.False(term.NeedsAttentions);
        Assert.Null(term.Trainable);
        var (r, _, _) = Reference();
        var batch = new Batch(new Dictionary<string, Tensor> { ["input_ids"] = r["input_ids"] }, r["labels"]);
        var context = new DistillContext(batch, new ModelOutput(r["student_logits"]), new ModelOutput(r["teacher_logits"]),
            new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>());
        Close(Scalar(r["total_loss"]), Scalar(term.Compute(context)), 1e-4, 1e-6, "total via term");

        var unlabeled = context with { Batch = new Batch(batch.Inputs, null) };
        var e = Assert.Throws<InvalidOperationException>(() => term.Compute(unlabeled));
        Assert.Contains("alpha: 1", e.Message);
    }

    [Fact]
    public void RejectsDifferentClassCountsAndSequenceLogits()
    {
        var e = ConfigError(() => LossRegistry.Default.Create(new SoftTargetSpec { Kind = "soft_target" }, Context(studentLabels: 3, teacherLabels: 2)));
        Assert.Equal("kind", e.Key);
        Assert.Contains("3", e.Message);
        Assert.Throws<ArgumentException>(() =>
            SoftTargetLoss.Compute(zeros(2, 3, 4), zeros(2, 3, 4), null, 2, 1));
        Assert.Throws<ArgumentException>(() =>
            SoftTargetLoss.Compute(zeros(2, 4), zeros(2, 5), null, 2, 1));
    }

    private static double[] Softmax(double[] z, int row, int classes, double temperature)
    {
        var e = new double[classes];
        double max = double.NegativeInfinity;
        for (int c = 0; c < classes; c++) max = Math.Max(max, z[row * classes + c] / temperature);
        double sum = 0;
        for (int c = 0; c < classes; c++) sum += e[c] = Math.Exp(z[row * classes + c] / temperature - max);
        for (int c = 0; c < classes; c++) e[c] /= sum;
        return e;
    }
}
