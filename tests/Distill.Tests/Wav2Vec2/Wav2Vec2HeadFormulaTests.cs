using Distill.Models;
using Distill.Models.Wav2Vec2;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static Distill.Tests.Wav2Vec2.Wav2Vec2TestData;

namespace Distill.Tests.Wav2Vec2;

/// <summary>
/// Options the HF references do not exercise (use_weighted_layer_sum, ctc_loss_reduction "mean", ctc_zero_infinity),
/// checked against computations written out in the test from HF's reference tensors and the checkpoint weights,
/// not against the model's own code path.
/// </summary>
public class Wav2Vec2HeadFormulaTests(ITestOutputHelper log)
{
    [Theory]
    [InlineData("groupnorm", false)]
    [InlineData("layernorm", true)]
    public void WeightedLayerSumPoolsTheSoftmaxWeightedHiddenStates(string variant, bool withMask)
    {
        string folder = Folder(variant, "Wav2Vec2ForSequenceClassification");
        var reference = Reference(folder);
        var checkpoint = Checkpoint(folder);
        var config = Config(folder) with { UseWeightedLayerSum = true };
        var model = new Wav2Vec2ForSequenceClassification(config);
        LoadStrict(model, checkpoint, "layer_weights");
        double[] w = [0.3, -0.7, 1.1];
        using (torch.no_grad())
            model.named_parameters().Single(p => p.name == "layer_weights").parameter.copy_(torch.tensor(w.Select(x => (float)x).ToArray()));
        model.eval();
        var output = model.call(Batch(reference, withMask, withLabels: true));

        // Independent computation in float64: softmax(w)-weighted HF hidden states → projector → (masked) mean → classifier.
        double[] soft = w.Select(Math.Exp).ToArray();
        double z = soft.Sum();
        var h = torch.zeros_like(reference["hidden_states.0"], dtype: ScalarType.Float64);
        for (int l = 0; l < 3; l++) h += reference[$"hidden_states.{l}"].to_type(ScalarType.Float64) * (soft[l] / z);
        var p = torch.nn.functional.linear(h, checkpoint["projector.weight"].to_type(ScalarType.Float64), checkpoint["projector.bias"].to_type(ScalarType.Float64)); // (B, T, P)
        long batch = p.shape[0], frames = p.shape[1];
        var pooled = torch.zeros(batch, p.shape[2], dtype: ScalarType.Float64);
        for (long b = 0; b < batch; b++)
        {
            long real = frames;
            if (withMask)
            {
                real = reference["attention_mask"][b].sum().item<long>();
                for (int i = 0; i < config.ConvKernel.Count; i++) real = (real - config.ConvKernel[i]) / config.ConvStride[i] + 1;
                Assert.True(real < frames || b == 0); // the shorter clip really is padded
            }
            pooled[b] = p[b].narrow(0, 0, real).mean(new long[] { 0 });
        }
        var logits = torch.nn.functional.linear(pooled, checkpoint["classifier.weight"].to_type(ScalarType.Float64), checkpoint["classifier.bias"].to_type(ScalarType.Float64));
        var labels = reference["labels"];
        var logp = logits.log_softmax(-1);
        double loss = -Enumerable.Range(0, (int)batch).Average(b => logp[b, labels[b].item<long>()].item<double>());

        AssertClose(log, "weighted logits", output.Logits, logits, 1e-5);
        AssertClose(log, "weighted loss", output.Loss!.reshape(1), torch.tensor(new[] { loss }), 0, 1e-5);
        double change = (logits - reference["logits"].to_type(ScalarType.Float64)).abs().max().item<double>();
        log.WriteLine($"logits change vs. last-hidden-state pooling: {change:E2}");
        Assert.True(change > 1e-3, "the weighted layer sum should change the logits");
    }

    [Theory]
    [InlineData("groupnorm", false)]
    [InlineData("layernorm", true)]
    public void CtcMeanReductionDividesByTargetLengthThenAverages(string variant, bool withMask)
    {
        string folder = Folder(variant, "Wav2Vec2ForCTC");
        var reference = Reference(folder);
        var (nll, targetLengths) = ReferenceCtcPerExample(folder, reference, reference["labels"], withMask);
        // The test's CTC must reproduce HF's own sum-reduced loss first.
        AssertClose(log, "test CTC sum vs HF", torch.tensor(new[] { nll.Sum() }), reference["loss"].to_type(ScalarType.Float64), 0, 1e-5);
        double expectedMean = nll.Select((v, i) => v / Math.Max(1, targetLengths[i])).Average();

        var model = new Wav2Vec2ForCTC(Config(folder) with { CtcLossReduction = "mean" });
        LoadStrict(model, Checkpoint(folder));
        model.eval();
        var output = model.call(Batch(reference, withMask, withLabels: true));
        AssertClose(log, "mean loss", output.Loss!.reshape(1), torch.tensor(new[] { expectedMean }), 0, 1e-5);
        Assert.True(Math.Abs(expectedMean - nll.Sum()) > 1, "mean and sum must differ for this batch");
    }

    [Fact]
    public void CtcZeroInfinityDropsImpossibleAlignments()
    {
        string folder = Folder("groupnorm", "Wav2Vec2ForCTC");
        var reference = Reference(folder);
        // Row 0: 12 labels for 9 frames, no alignment exists (infinite loss). Row 1: 3 labels, finite.
        var labels = torch.tensor(new long[] { 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 3, 4, 5, -100, -100, -100, -100, -100, -100, -100, -100, -100 }, new long[] { 2, 12 });
        var (nll, _) = ReferenceCtcPerExample(folder, reference, labels, withMask: false);
        Assert.True(double.IsPositiveInfinity(nll[0]));
        var inputs = new Dictionary<string, Tensor> { ["input_values"] = reference["input_values"] };

        var plain = new Wav2Vec2ForCTC(Config(folder));
        LoadStrict(plain, Checkpoint(folder));
        plain.eval();
        using (torch.no_grad())
            Assert.True(float.IsPositiveInfinity(plain.call(new Batch(inputs, labels)).Loss!.item<float>()));

        var zeroInf = new Wav2Vec2ForCTC(Config(folder) with { CtcZeroInfinity = true });
        LoadStrict(zeroInf, Checkpoint(folder));
        zeroInf.eval();
        var loss = zeroInf.call(new Batch(inputs, labels)).Loss!;
        AssertClose(log, "zero_infinity loss", loss.reshape(1), torch.tensor(new[] { nll[1] }), 0, 1e-5);
        loss.backward();
        var g = zeroInf.named_parameters().Single(p => p.name == "lm_head.weight").parameter.grad!;
        Assert.True(g.isfinite().all().item<bool>());
    }

    [Fact]
    public void CtcRejectsLabelsOutsideTheVocabulary()
    {
        string folder = Folder("groupnorm", "Wav2Vec2ForCTC");
        var reference = Reference(folder);
        var model = new Wav2Vec2ForCTC(Config(folder));
        model.eval();
        var labels = torch.tensor(new long[] { 1, 32 }, new long[] { 1, 2 }).expand(2, 2).contiguous();
        var ex = Assert.Throws<ArgumentException>(() => model.call(new Batch(new Dictionary<string, Tensor> { ["input_values"] = reference["input_values"] }, labels)));
        Assert.Contains("vocab_size 32", ex.Message);
    }

    /// <summary>
    /// Per-example CTC negative log-likelihood of <paramref name="labels"/> under HF's reference logits, by the CTC
    /// forward (α) recursion of Graves et al. (2006) in float64, blank = pad_token_id; frame counts from the
    /// attention_mask with the conv length formula.
    /// </summary>
    private static (double[] Nll, int[] TargetLengths) ReferenceCtcPerExample(string folder, Dictionary<string, Tensor> reference, Tensor labels, bool withMask)
    {
        var config = Config(folder);
        var logits = reference["logits"].to_type(ScalarType.Float64);
        int batch = (int)logits.shape[0], frames = (int)logits.shape[1];
        var nll = new double[batch];
        var lengths = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            long t = frames;
            if (withMask)
            {
                t = reference["attention_mask"][b].sum().item<long>();
                for (int i = 0; i < config.ConvKernel.Count; i++) t = (t - config.ConvKernel[i]) / config.ConvStride[i] + 1;
            }
            var target = labels[b].data<long>().Where(x => x >= 0).Select(x => (int)x).ToArray();
            lengths[b] = target.Length;
            var lp = logits[b].log_softmax(-1);
            var logProbs = new double[t, lp.shape[1]];
            for (int i = 0; i < t; i++) for (int v = 0; v < lp.shape[1]; v++) logProbs[i, v] = lp[i, v].item<double>();
            nll[b] = CtcNll(logProbs, (int)t, target, config.PadTokenId);
        }
        return (nll, lengths);
    }

    private static double CtcNll(double[,] lp, int frames, int[] target, int blank)
    {
        int s = 2 * target.Length + 1;
        var ext = new int[s];
        for (int i = 0; i < s; i++) ext[i] = i % 2 == 0 ? blank : target[i / 2];
        var alpha = new double[s];
        Array.Fill(alpha, double.NegativeInfinity);
        alpha[0] = lp[0, ext[0]];
        if (s > 1) alpha[1] = lp[0, ext[1]];
        for (int t = 1; t < frames; t++)
        {
            var next = new double[s];
            for (int i = 0; i < s; i++)
            {
                double a = alpha[i];
                if (i >= 1) a = LogAdd(a, alpha[i - 1]);
                if (i >= 2 && ext[i] != blank && ext[i] != ext[i - 2]) a = LogAdd(a, alpha[i - 2]);
                next[i] = a + lp[t, ext[i]];
            }
            alpha = next;
        }
        double total = s > 1 ? LogAdd(alpha[s - 1], alpha[s - 2]) : alpha[0];
        return -total;
    }

    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        double m = Math.Max(a, b);
        return m + Math.Log(Math.Exp(a - m) + Math.Exp(b - m));
    }
}
