using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Models.Mlp;
using Distill.Models;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages.Results;
using Distill.Stages;
using Distill.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

public class QuantizationTests
{
    [Theory]
    [InlineData(8, true, true)]
    [InlineData(4, true, true)]
    [InlineData(2, true, true)]
    [InlineData(4, false, true)]
    [InlineData(4, true, false)]
    [InlineData(2, false, false)]
    public void QuantizeDequantize_ErrorIsWithinHalfAStep(int bits, bool perChannel, bool symmetric)
    {
        var g = ParamInit.Seeded(20 + bits);
        using var w = torch.randn(6, 50, generator: g) * torch.linspace(0.1, 2, 6).unsqueeze(1);
        w[0, 3] = torch.tensor(0f); // zeros stay exact
        var grid = WeightQuantizer.Grid(w, new QuantScheme(bits, perChannel, symmetric));
        using var q = WeightQuantizer.FakeQuantize(w, grid);
        var wv = w.data<float>().ToArray();
        var qv = q.data<float>().ToArray();
        for (int c = 0; c < 6; c++)
        {
            var row = wv.Skip(c * 50).Take(50).ToArray();
            // The step of the grid, computed independently from the scheme's definition.
            double step = symmetric
                ? (perChannel ? row : wv).Max(v => Math.Abs(v)) / ((1 << (bits - 1)) - 1)
                : ((perChannel ? row : wv).Max(v => Math.Max(v, 0)) - (perChannel ? row : wv).Min(v => Math.Min(v, 0))) / ((1 << bits) - 1);
            for (int i = 0; i < 50; i++)
                Assert.True(Math.Abs(qv[c * 50 + i] - row[i]) <= step / 2 + 1e-6 * step,
                    $"{bits}-bit: |q − w| = {Math.Abs(qv[c * 50 + i] - row[i])} > step/2 = {step / 2} at ({c}, {i})");
            int levels = qv.Skip(c * 50).Take(50).Distinct().Count();
            Assert.True(levels <= (symmetric ? (1 << bits) - 1 : 1 << bits), $"{levels} levels in channel {c}");
        }
        Assert.Equal(0f, qv[3]);
        // The artifact decodes the same numbers: code by code, C# Dequantize(Quantize(w)) equals the torch fake-quantizer.
        for (int i = 0; i < wv.Length; i++)
        {
            int c = perChannel ? i / 50 : 0;
            Assert.Equal(qv[i], grid.Dequantize(grid.Quantize(wv[i], c), c));
        }
    }

    [Fact]
    public void Qat_GradientIsTakenAtTheQuantizedWeights_AndUpdatesTheLatentOnes()
    {
        var g = ParamInit.Seeded(21);
        using var model = ParamInit.Build(g, () => new MlpModel(new MlpConfig { InputSize = 12, HiddenSizes = [8], NumLabels = 3 }));
        var selected = PruneSelector.Select(model, ["layers.0"], []);
        var weight = selected[0].Weight;
        using var masks = new MaskSet(selected);
        using var qat = new QatWeights([(selected[0], new QuantScheme(2))], masks);
        qat.Start();
        var latent0 = weight.detach().clone(); // quantized now; the latent copy is the float weight
        using var x = torch.randn(5, 12, generator: g);
        var batch = new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = x }, torch.tensor(new long[] { 0, 1, 2, 0, 1 }));
        var grids0 = qat.Grids();
        var latentBefore = torch.zeros_like(weight);
        foreach (var (name, buffer) in qat.named_buffers()) if (name == "layers.0.weight.latent") latentBefore = buffer.clone();

        // Expected gradient: of the same loss with q(latent) substituted, computed functionally.
        var qLatent = WeightQuantizer.FakeQuantize(latentBefore, grids0["layers.0.weight"]).requires_grad_(true);
        Assert.True(qLatent.eq(latent0).all().item<bool>(), "the parameter holds q(latent) after Start");
        var sd = model.state_dict();
        var h = nn.functional.relu(nn.functional.linear(x, qLatent, sd["layers.0.bias"]));
        var expectedLoss = nn.functional.cross_entropy(nn.functional.linear(h, sd["classifier.weight"], sd["classifier.bias"]), batch.RequireLabels());
        expectedLoss.backward();
        var expectedGrad = qLatent.grad!.clone();

        using var sgd = optim.SGD(model.parameters(), 0.1);
        sgd.zero_grad();
        nn.functional.cross_entropy(model.call(batch).Logits, batch.RequireLabels()).backward();
        Assert.True(torch.allclose(weight.grad!, expectedGrad, rtol: 1e-5, atol: 1e-7));
        qat.BeforeStep();
        sgd.step();
        qat.AfterStep();

        using var expectedLatent = latentBefore - 0.1 * expectedGrad;
        Tensor latentAfter = torch.zeros(1);
        foreach (var (name, buffer) in qat.named_buffers()) if (name == "layers.0.weight.latent") latentAfter = buffer;
        Assert.True(torch.allclose(latentAfter, expectedLatent, rtol: 1e-5, atol: 1e-7));
        Assert.True(weight.detach().eq(WeightQuantizer.FakeQuantize(latentAfter, WeightQuantizer.Grid(latentAfter, new QuantScheme(2)))).all().item<bool>());
        var wv = weight.detach().data<float>().ToArray();
        for (int c = 0; c < 8; c++) Assert.True(wv.Skip(c * 12).Take(12).Distinct().Count() <= 3, "2-bit symmetric: at most 3 levels per channel");
    }

    [Fact]
    public void ActivationQuantizer_ObservesRanges_AndPassesGradientsStraightThrough()
    {
        var g = ParamInit.Seeded(22);
        using var model = ParamInit.Build(g, () => new MlpModel(new MlpConfig { InputSize = 10, HiddenSizes = [6], NumLabels = 3 }));
        using var acts = new ActivationQuantizers([("layers.0", 4)]) { Mode = ActivationQuantizers.ObserverMode.Calibrate };
        acts.Attach(model);
        model.eval();
        using var x1 = torch.rand(4, 10, generator: g) * 2 - 0.5; // in [−0.5, 1.5]
        using var x2 = torch.rand(4, 10, generator: g) * 3;       // in [0, 3]
        using (torch.no_grad())
        {
            model.call(new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = x1 }, null));
            model.call(new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = x2 }, null));
        }
        var range = acts.Ranges.Single();
        Assert.Equal(Math.Min(x1.min().item<float>(), x2.min().item<float>()), range.Min);
        Assert.Equal(Math.Max(x1.max().item<float>(), x2.max().item<float>()), range.Max);

        acts.Mode = ActivationQuantizers.ObserverMode.Frozen;
        var (scale, _) = range.Grid();
        // Training mode with frozen ranges: the first layer sees the quantized input, and the gradient goes straight through.
        var sd = model.state_dict();
        var input = x1.clone().requires_grad_(true);
        model.train();
        var logits = model.call(new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = input }, null)).Logits;
        logits.sum().backward();
        // Straight-through: d(sum logits)/dx equals the float network's gradient at the quantized input.
        using var xq = ((x1 / scale).round() + Math.Round(-Math.Min(range.Min, 0) / scale)).clamp(0, 15);
        using var deq = (xq - Math.Round(-Math.Min(range.Min, 0) / scale)) * scale;
        Assert.True((deq - x1).abs().max().item<float>() <= scale / 2 + 1e-6);
        var xin = deq.clone().requires_grad_(true);
        var h = nn.functional.relu(nn.functional.linear(xin, sd["layers.0.weight"], sd["layers.0.bias"]));
        nn.functional.linear(h, sd["classifier.weight"], sd["classifier.bias"]).sum().backward();
        Assert.True(torch.allclose(input.grad!, xin.grad!, rtol: 1e-5, atol: 1e-7));
        acts.Detach();
    }

    [Fact]
    public void KdQat4Bit_WithInt8Activations_ExportsLinearCodes_AndTheArtifactReproducesTheStage()
    {
        var qat = new QuantizeStageSpec
        {
            Method = QuantizeMethod.Qat, Bits = 4, ActivationBits = 8,
            Train = new Distill.Recipes.TrainSpec { Steps = 10, BatchSize = 32, Lr = 1e-3, Seed = 11, HistogramEvery = null, EvalEvery = 5 },
        };
        var recipe = CompressionTestRecipes.TinyMlp(
            [new TrainTeacherStageSpec(), new DistillStageSpec(), qat, new ExportStageSpec()], steps: 10,
            terms: [new Distill.Losses.SoftTargetSpec()]);
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var names = new HashSet<string>();
            var summary = new RunExecutor
            {
                Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir,
                ExtraCallbacks = stage => stage == "quantize" ? [new TermNames(names)] : [],
            }.Execute();
            Assert.Contains("soft_target", names); // KD-QAT: the teacher's soft targets are the loss
            var q = summary.Stages.OfType<QuantizeResult>().Single();
            var export = summary.Stages.OfType<ExportResult>().Single();
            var layers = export.Layers;
            foreach (var name in new[] { "layers.0.weight", "layers.1.weight" })
                Assert.StartsWith($"{name}: linear 4b", (string)layers[name].Encoding);
            Assert.Equal(0.0, (double)export.RoundtripMaxAbsDiff);
            Assert.Equal(8, (int)export.ActivationBits);
            // The model loaded from the file (4-bit weights, simulated int8 activations) scores what the stage ended with.
            Assert.Equal(q.Metrics["accuracy"], export.Metrics["accuracy"]);
            Assert.Equal(q.Metrics["loss"], export.Metrics["loss"], 6);
            using var loaded = ModelArtifact.Load(Path.Combine(dir, "artifacts", "export", "model.dcmp"), ModelRegistry.Default);
            var saved = Distill.Checkpoints.SafeTensors.Load(Path.Combine(dir, "models", "quantize", "model.safetensors"));
            foreach (var (k, v) in loaded.state_dict()) Assert.True(v.eq(saved[k]).all().item<bool>(), k);
            Assert.True((double)export.CompressionRatio > 5, $"4-bit weights: ratio {export.CompressionRatio}");
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }

    [Fact]
    public void Ptq8Bit_WithCalibration_StaysCloseToFloat()
    {
        var ptq = new QuantizeStageSpec { Method = QuantizeMethod.Ptq, Bits = 8, ActivationBits = 8, CalibrationBatches = 4 };
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec(), ptq, new ExportStageSpec()], steps: 30);
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var summary = new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute();
            double floatAcc = summary.Stages[0].Metrics["accuracy"];
            var q = summary.Stages.OfType<QuantizeResult>().Single();
            var export = summary.Stages.OfType<ExportResult>().Single();
            Assert.True(Math.Abs(q.Metrics["accuracy"] - floatAcc) <= 0.02, $"float {floatAcc}, 8-bit PTQ {q.Metrics["accuracy"]}");
            Assert.Equal(q.Metrics["accuracy"], export.Metrics["accuracy"]);
            Assert.Equal(0, q.Steps);
            var record = QuantizationRecord.Load(Path.Combine(dir, "models", "quantize"));
            Assert.Equal(["layers.0", "layers.1"], record.Activations.Select(a => a.Module).Order());
            Assert.Equal(8, record.Weights["layers.0.weight"].Bits);
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }

    private sealed class TermNames(HashSet<string> names) : ITrainerCallback
    {
        public void OnStep(TrainingSession session, StepInfo step)
        {
            foreach (var (name, _) in step.Terms) names.Add(name);
        }
    }
}
