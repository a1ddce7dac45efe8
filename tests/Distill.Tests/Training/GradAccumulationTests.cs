using Distill.Data;
using Distill.Losses;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Mlp;
using Distill.Recipes;
using Distill.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Training;

/// <summary>
/// <c>train.grad_accum_steps</c>: with dropout off, a step run as N micro-batches gives the same logged losses and the
/// same weights (to 1e-6) as the step run as one batch, for plain cross-entropy and for a distillation objective with
/// soft targets and a projected hidden-state term; also when the batch does not divide evenly.
/// </summary>
public class GradAccumulationTests
{
    private const int Steps = 5;

    private sealed class Recorder : ITrainerCallback
    {
        public List<StepInfo> Steps { get; } = [];

        public void OnStep(TrainingSession session, StepInfo step) => Steps.Add(step);
    }

    private static TrainSpec Spec(int batchSize, int accumulation) => new()
    {
        Steps = Steps, BatchSize = batchSize, GradAccumSteps = accumulation, Lr = 3e-3, WarmupSteps = 1, GradClip = 1.0,
        EvalEvery = null, Seed = 3, LogEvery = 1, HistogramEvery = null, CheckpointEvery = 100,
    };

    /// <summary>Trains for <see cref="Steps"/> steps; returns every step's record and the final weights (and projectors) as doubles.</summary>
    private static (List<StepInfo> Steps, Dictionary<string, double[]> Weights) Train(
        TrainSpec spec, DistillModel model, IObjective objective, IDataset train, IDataset eval)
    {
        var parameters = model.parameters().Concat(objective.Trainable?.parameters() ?? []);
        using var opt = OptimizerFactory.Create(spec, parameters);
        var session = new TrainingSession("s", model, objective, opt, Steps, new Generator(1, CPU));
        var record = new Recorder();
        new Trainer(spec, [record]).Fit(session, train, eval, 64, CPU);
        var state = model.state_dict().Concat(objective.Trainable?.state_dict() ?? []);
        return (record.Steps, state.ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float64).data<double>().ToArray()));
    }

    private static void AssertSame((List<StepInfo> Steps, Dictionary<string, double[]> Weights) whole,
        (List<StepInfo> Steps, Dictionary<string, double[]> Weights) accumulated)
    {
        Assert.Equal(Steps, whole.Steps.Count);
        Assert.Equal(whole.Steps.Select(s => s.Step), accumulated.Steps.Select(s => s.Step)); // optimizer steps only
        for (int i = 0; i < Steps; i++)
        {
            var (a, b) = (whole.Steps[i], accumulated.Steps[i]);
            Assert.Equal(a.LearningRate, b.LearningRate);
            Assert.True(Math.Abs(a.Total - b.Total) <= 1e-6, $"step {a.Step}: total {a.Total} vs accumulated {b.Total}");
            Assert.Equal(a.Terms.Select(t => t.Name), b.Terms.Select(t => t.Name));
            for (int t = 0; t < a.Terms.Count; t++)
                Assert.True(Math.Abs(a.Terms[t].Value - b.Terms[t].Value) <= 1e-6, $"step {a.Step}, {a.Terms[t].Name}: {a.Terms[t].Value} vs {b.Terms[t].Value}");
        }
        Assert.Equal(whole.Weights.Keys.Order(), accumulated.Weights.Keys.Order());
        double worst = 0;
        foreach (var (name, w) in whole.Weights)
        {
            var v = accumulated.Weights[name];
            for (int j = 0; j < w.Length; j++) worst = Math.Max(worst, Math.Abs(w[j] - v[j]));
        }
        Assert.True(worst <= 1e-6, $"largest weight difference {worst}");
        // The weights did move: the comparison is not between two untrained models.
        Assert.True(whole.Steps[0].Total != whole.Steps[^1].Total);
    }

    private static IDataset Mnist(int count) =>
        SubsetDataset.Limit(Distill.Data.Mnist.MnistDataset.Open(TestRecipes.MnistDir, "test", null, null), count, 5);

    private static MlpModel Mlp() => ParamInit.Build(2, () => new MlpModel(new MlpConfig { HiddenSizes = [32, 16] }));

    [Theory]
    [InlineData(32, 4)] // 4 × 8
    [InlineData(30, 4)] // 8, 8, 7, 7: micro-batches of different sizes
    public void LabelsOnlyAccumulationEqualsTheWholeBatch(int batchSize, int accumulation)
    {
        var train = Mnist(96);
        var eval = Mnist(64);
        var whole = Train(Spec(batchSize, 1), Mlp(), new CrossEntropyObjective(), train, eval);
        var accumulated = Train(Spec(batchSize, accumulation), Mlp(), new CrossEntropyObjective(), train, eval);
        AssertSame(whole, accumulated);
    }

    private static BertConfig Bert(int hidden, int layers) => new()
    {
        VocabSize = 40, HiddenSize = hidden, NumHiddenLayers = layers, NumAttentionHeads = 2, IntermediateSize = 2 * hidden,
        MaxPositionEmbeddings = 16, NumLabels = 2, HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0,
    };

    /// <summary>A fresh teacher, student and objective (soft targets with their cross-entropy, hidden MSE through a projector), seeded alike every call.</summary>
    private static (DistillModel Student, DistillObjective Objective) Distillation()
    {
        var init = ParamInit.Seeded(5);
        var teacher = ParamInit.Build(init, () => new BertForSequenceClassification(Bert(hidden: 16, layers: 4)));
        var student = ParamInit.Build(init, () => new BertForSequenceClassification(Bert(hidden: 8, layers: 2)));
        long[] inputs = [FixedText.Tokens];
        var shapes = ShapeProbe.Measure(student, teacher,
            [new InputSpec("input_ids", inputs, ScalarType.Int64), new InputSpec("attention_mask", inputs, ScalarType.Int64),
             new InputSpec("token_type_ids", inputs, ScalarType.Int64)]);
        var terms = ParamInit.Build(ParamInit.Seeded(9), () => new List<ILossTerm>
        {
            LossRegistry.Default.Create(new SoftTargetSpec { Temperature = 2, Alpha = 0.5 }, shapes),
            LossRegistry.Default.Create(new HiddenMseSpec { Weight = 0.5 }, shapes),
        });
        return (student, new DistillObjective(teacher, terms));
    }

    [Theory]
    [InlineData(32, 4)]
    [InlineData(30, 4)]
    public void DistillationAccumulationEqualsTheWholeBatch(int batchSize, int accumulation)
    {
        var data = new FixedText(96);
        var (s1, o1) = Distillation();
        using var objective1 = o1;
        var whole = Train(Spec(batchSize, 1), s1, objective1, data, new FixedText(16));
        var (s2, o2) = Distillation();
        using var objective2 = o2;
        var accumulated = Train(Spec(batchSize, accumulation), s2, objective2, data, new FixedText(16));
        Assert.Equal(2, whole.Steps[0].Terms.Count); // soft_target (its kd and ce in one value) and hidden_mse
        AssertSame(whole, accumulated);
    }

    [Fact]
    public void MicroBatchSizesDifferByAtMostOneAndAreNeverEmpty()
    {
        Assert.Equal([8, 8, 8, 8], Trainer.MicroBatchSizes(32, 4));
        Assert.Equal([8, 8, 7, 7], Trainer.MicroBatchSizes(30, 4));
        Assert.Equal([1, 1, 1], Trainer.MicroBatchSizes(3, 8));
        Assert.Equal([5], Trainer.MicroBatchSizes(5, 1));
        var steps = Trainer.MicroBatches([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]], 2).ToList();
        Assert.Equal([[0, 1, 2], [3, 4], [5, 6, 7], [8, 9]], steps);
    }

    /// <summary>Token ids of <see cref="Tokens"/> real tokens per example (no padding: every example has the same token count).</summary>
    private sealed class FixedText(int count) : IDataset
    {
        public const int Tokens = 6;

        public int Count => count;
        public int NumClasses => 2;
        public int Label(int index) => index * 7 % 3 == 0 ? 1 : 0;

        public Batch GetBatch(ReadOnlySpan<int> indices)
        {
            var ids = new long[indices.Length * Tokens];
            var labels = new long[indices.Length];
            for (int b = 0; b < indices.Length; b++)
            {
                for (int j = 0; j < Tokens; j++) ids[b * Tokens + j] = 1 + (indices[b] * 13 + j * 5) % 39;
                labels[b] = Label(indices[b]);
            }
            return new Batch(new Dictionary<string, Tensor>
            {
                ["input_ids"] = torch.tensor(ids, [indices.Length, Tokens]),
                ["attention_mask"] = torch.ones([indices.Length, Tokens], ScalarType.Int64),
                ["token_type_ids"] = torch.zeros([indices.Length, Tokens], ScalarType.Int64),
            }, torch.tensor(labels));
        }
    }
}
