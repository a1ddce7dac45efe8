using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Tests.Recipes;
using Distill.Tests.Training;
using Distill.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Precision;

public class MixedPrecisionTests
{
    private static TrainSpec Sgd(double lr) => new() { Optimizer = OptimizerKind.Sgd, Lr = lr, Momentum = 0, WeightDecay = 0 };

    /// <summary>30 SGD steps of lr·grad = 1e-4 on a weight of 1: bf16 (spacing 2^-8 just below 1... 2^-7 above) cannot
    /// represent 1 − 1e-4, so a plain bf16 update is rounded away every step; the fp32 master accumulates all 30.</summary>
    [Fact]
    public void MasterWeightsKeepUpdatesThatBf16RoundsAway()
    {
        var plain = new Parameter(torch.ones(4, dtype: ScalarType.BFloat16));
        var mixed = new Parameter(torch.ones(4, dtype: ScalarType.BFloat16));
        using var plainOpt = OptimizerFactory.Create(Sgd(1e-4), [plain]);
        using var mixedOpt = new MasterWeightOptimizer(Sgd(1e-4), [mixed]);
        for (int i = 0; i < 30; i++)
        {
            foreach (var (p, opt) in new (Parameter, OptimizerHelper)[] { (plain, plainOpt), (mixed, mixedOpt) })
            {
                opt.zero_grad();
                (p.to_type(ScalarType.Float32).sum()).backward(); // grad = 1 everywhere
                opt.step();
            }
        }
        Assert.Equal(1.0f, plain.to_type(ScalarType.Float32)[0].item<float>());
        Assert.Equal(1 - 30e-4, mixedOpt.Masters[0][0].item<float>(), 5);
        Assert.Equal(ScalarType.BFloat16, mixed.dtype);
        // The model holds the master rounded to bf16: 0.997 → 0.99609375 (nearest bf16).
        Assert.Equal(0.99609375f, mixed.to_type(ScalarType.Float32)[0].item<float>());
    }

    [Fact]
    public void ZeroGradClearsTheModelsLowPrecisionGradients()
    {
        var p = new Parameter(torch.ones(3, dtype: ScalarType.BFloat16));
        using var opt = new MasterWeightOptimizer(Sgd(0.1), [p]);
        p.to_type(ScalarType.Float32).sum().backward();
        opt.step();
        opt.zero_grad();
        Assert.Equal(0f, p.grad!.abs().sum().to_type(ScalarType.Float32).item<float>());
        // Without a new backward the next step does not move the weight again.
        var before = p.to_type(ScalarType.Float32).clone();
        opt.step();
        Assert.True(torch.allclose(before, p.to_type(ScalarType.Float32), rtol: 0, atol: 0));
    }

    /// <summary>The same teacher + distill run in fp32 and in bf16: the bf16 losses follow the fp32 ones step by step
    /// (within bf16's rounding), and the saved bf16 student holds bf16 weights.</summary>
    [Fact]
    public void Bf16RunFollowsTheFp32RunAndSavesBf16Weights()
    {
        var (fp32, _, fp32Entry) = Run(Distill.Training.Precision.Fp32);
        var (bf16, weights, bf16Entry) = Run(Distill.Training.Precision.Bf16);
        Assert.Equal("fp32", fp32Entry.Precision); // summary.json records the precision each stage trained in
        Assert.Equal("bf16", bf16Entry.Precision);
        Assert.Equal(fp32.Count, bf16.Count);
        Assert.True(bf16[^1] < bf16[0] * 0.8, $"bf16 loss did not fall: {string.Join(", ", bf16)}");
        for (int i = 0; i < fp32.Count; i++)
            Assert.True(Math.Abs(fp32[i] - bf16[i]) <= 0.03 * fp32[i], $"step {i + 1}: fp32 {fp32[i]} vs bf16 {bf16[i]}");
        Assert.All(weights.Where(w => w.Value.is_floating_point()), w => Assert.Equal(ScalarType.BFloat16, w.Value.dtype));
    }

    private static (List<double> Losses, Dictionary<string, Tensor> Weights, Distill.Stages.Results.ModelStageResult Entry) Run(Distill.Training.Precision precision)
    {
        string dir = TestRecipes.TempDir();
        try
        {
            var recipe = TestRecipes.TinyCnn(12, checkpointEvery: 100,
                [new TrainTeacherStageSpec { Name = "teacher" }, new DistillStageSpec()],
                [new Distill.Losses.SoftTargetSpec(), new Distill.Losses.HintSpec { Student = "blocks.1", Teacher = "blocks.1" }]);
            recipe = recipe with { Train = recipe.Train with { Precision = precision }, Output = recipe.Output with { Tensorboard = false } };
            var losses = new List<double>();
            var summary = new RunExecutor
            {
                Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir,
                ExtraCallbacks = s => s == "distill" ? [new Collect(losses)] : [],
            }.Execute();
            return (losses, Distill.Checkpoints.SafeTensors.Load(Path.Combine(dir, "models", "distill", "model.safetensors")),
                Assert.IsAssignableFrom<Distill.Stages.Results.ModelStageResult>(summary.Stages[^1]));
        }
        finally
        {
            TestRecipes.DeleteDir(dir);
        }
    }

    private sealed class Collect(List<double> losses) : ITrainerCallback
    {
        public void OnStep(TrainingSession session, StepInfo step) => losses.Add(step.Total);
    }
}
