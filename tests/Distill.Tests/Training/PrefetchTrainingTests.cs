using Distill.Checkpoints;
using Distill.Data;
using Distill.Models;
using Distill.Models.Cnn;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Tests.Data;
using Distill.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Training;

/// <summary>
/// <c>data.prefetch</c> in the trainer and the evaluator: the same run with prefetch 0 and 2 is bit-identical (losses,
/// evaluations, weights), the worker really builds the next batch while a step computes, and a file that becomes
/// unreadable during a run stops it naming the file, with the checkpoints intact.
/// </summary>
public class PrefetchTrainingTests
{
    private sealed class Recorder : ITrainerCallback
    {
        public List<(long Step, double Total, (string, double)[] Terms)> Steps { get; } = [];
        public List<(long Step, KeyValuePair<string, double>[] Metrics)> Evals { get; } = [];

        public void OnStep(TrainingSession session, StepInfo step) => Steps.Add((step.Step, step.Total, [.. step.Terms]));

        public void OnEval(TrainingSession session, EvalInfo eval) => Evals.Add((eval.Step, [.. eval.Metrics.OrderBy(kv => kv.Key)]));
    }

    private static (Recorder Record, Dictionary<string, double[]> Weights) Train(int prefetch, IDataset train, IDataset eval, IObjective? objective = null, TrainSpec? spec = null)
    {
        var recipe = TestRecipes.TinyCnn(10, checkpointEvery: 100, [new BaselineStageSpec()]);
        spec ??= recipe.Train; // 10 steps of 32, evaluation every 4 steps and at the end
        var model = ParamInit.Build(1, () => new CnnModel((CnnConfig)recipe.Student.Config!));
        using var opt = OptimizerFactory.Create(spec, model.parameters());
        var session = new TrainingSession("s", model, objective ?? new CrossEntropyObjective(), opt, spec.Steps!.Value, new Generator(1, CPU));
        var record = new Recorder();
        new Trainer(spec, [record]) { Prefetch = prefetch }.Fit(session, train, [new EvalSplit("test", eval)], 64, torch.CPU);
        return (record, model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float64).data<double>().ToArray())); // float32 and int64 exactly
    }

    private static IDataset Mnist() => Distill.Data.Mnist.MnistDataset.Open(TestRecipes.MnistDir, "test", null, null);

    [Fact]
    public void PrefetchOnAndOffGiveBitIdenticalLossesEvaluationsAndWeights()
    {
        var mnist = Mnist();
        var evalData = SubsetDataset.Limit(mnist, 150, 3); // 3 evaluation batches of 64, the last one shorter
        var offTrain = new RecordingDataset(SubsetDataset.Limit(mnist, 100, 5)); // 3 steps per epoch: 10 steps cross 4 epochs
        var off = Train(0, offTrain, evalData);
        var onTrain = new RecordingDataset(SubsetDataset.Limit(mnist, 100, 5));
        var on = Train(2, onTrain, evalData);

        Assert.Equal(10, off.Record.Steps.Count);
        Assert.Equal(off.Record.Steps.Select(s => s.Total), on.Record.Steps.Select(s => s.Total)); // exact doubles
        Assert.Equal(off.Record.Steps.Select(s => s.Terms), on.Record.Steps.Select(s => s.Terms));
        Assert.Equal([4L, 8L, 10L], on.Record.Evals.Select(e => e.Step));
        Assert.Equal(off.Record.Evals.SelectMany(e => e.Metrics.Select(m => (e.Step, m.Key, m.Value))),
            on.Record.Evals.SelectMany(e => e.Metrics.Select(m => (e.Step, m.Key, m.Value))));
        foreach (var (name, w) in off.Weights) Assert.Equal(w, on.Weights[name]);
        // The same batches in the same order; off: built on the training thread, on: on the worker.
        Assert.Equal(offTrain.Calls.OrderBy(c => c.Number).Select(c => c.Indices), onTrain.Calls.OrderBy(c => c.Number).Select(c => c.Indices));
        Assert.All(offTrain.Calls, c => Assert.Equal(Environment.CurrentManagedThreadId, c.ThreadId));
        Assert.All(onTrain.Calls, c => Assert.NotEqual(Environment.CurrentManagedThreadId, c.ThreadId));
    }

    /// <summary>Cross-entropy that first notes how many batches the dataset had been asked for, waiting (up to 20 s) for the next step's with <c>waitAhead</c>.</summary>
    private sealed class WatchingObjective(RecordingDataset data, bool waitAhead) : IObjective
    {
        private readonly CrossEntropyObjective _ce = new();
        private int _step;

        public List<(int Step, int CallsSeen)> Seen { get; } = [];

        public nn.Module? Trainable => null;

        public LossBreakdown Compute(DistillModel student, Batch batch)
        {
            int step = _step++;
            if (waitAhead && step < 7) data.WaitForCalls(step + 2); // the last step has no next batch
            Seen.Add((step, data.CallCount));
            return _ce.Compute(student, batch);
        }
    }

    [Fact]
    public void TheWorkerBuildsTheNextBatchWhileAStepComputes()
    {
        var recipe = TestRecipes.TinyCnn(8, checkpointEvery: 100, [new BaselineStageSpec()]);
        var spec = recipe.Train with { EvalEvery = null }; // one run of 8 steps, evaluated at the end
        var mnist = Mnist();
        var evalData = SubsetDataset.Limit(mnist, 64, 3);

        var on = new RecordingDataset(SubsetDataset.Limit(mnist, 256, 5));
        var ahead = new WatchingObjective(on, waitAhead: true);
        Train(2, on, evalData, ahead, spec);
        // While step k computed, batch k + 1 had been built (step k + 2's maybe too, never more: two ahead).
        Assert.All(ahead.Seen.Where(s => s.Step < 7), s => Assert.InRange(s.CallsSeen, s.Step + 2, s.Step + 3));

        var off = new RecordingDataset(SubsetDataset.Limit(mnist, 256, 5));
        var inline = new WatchingObjective(off, waitAhead: false);
        Train(0, off, evalData, inline, spec);
        Assert.All(inline.Seen, s => Assert.Equal(s.Step + 1, s.CallsSeen)); // prefetch 0: only the batch of the step
    }

    /// <summary>Overwrites a training image with bytes no decoder reads once the run has passed a step.</summary>
    private sealed class BreakFileAt(long step, string file) : ITrainerCallback
    {
        public void OnStep(TrainingSession session, StepInfo info)
        {
            if (info.Step == step) File.WriteAllBytes(file, "this is no longer a PNG"u8.ToArray());
        }
    }

    [Fact]
    public void AnImageThatBecomesUnreadableDuringARunStopsItNamingTheFileWithTheCheckpointsIntact()
    {
        using var files = new DataFiles();
        for (int i = 0; i < 4; i++)
        {
            files.Image($"train/cat/c{i}.png", 8, 8, (byte)(10 * i), 20, 30);
            files.Image($"train/dog/d{i}.png", 8, 8, (byte)(200 - 10 * i), 90, 10);
        }
        files.Image("test/cat/t0.png", 8, 8, 5, 20, 30);
        files.Image("test/dog/t1.png", 8, 8, 190, 90, 10);
        string broken = files["train/dog/d2.png"];
        var cnn = new CnnConfig { InChannels = 1, ImageSize = 8, Channels = [2, 4], HiddenSize = 8, NumLabels = 2 };
        var recipe = new Recipe
        {
            Teacher = new ModelSpec { Model = "cnn", Config = cnn },
            Student = new ModelSpec { Model = "cnn", Config = cnn },
            Data = new DataSpec
            {
                Dataset = "image_folder", Path = files.Root, TrainSplit = "train", EvalSplit = "test", EvalBatchSize = 2,
                Prefetch = 2, Preprocessing = new PreprocessSpec { Channels = 1 },
            },
            // 2 steps per epoch, each epoch reads every image: the broken one is read again after step 3.
            Train = new TrainSpec { Steps = 12, BatchSize = 4, WarmupSteps = 0, CheckpointEvery = 1, LogEvery = 1, HistogramEvery = null, EvalEvery = null, Seed = 1 },
            Stages = [new BaselineStageSpec()],
        };
        string dir = TestRecipes.TempDir();
        try
        {
            var e = Assert.Throws<RunFailedException>(() => new RunExecutor
            {
                Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "t", RunDir = dir,
                ExtraCallbacks = _ => [new BreakFileAt(3, broken)],
            }.Execute());
            Assert.Contains(broken, e.Message);
            Assert.Equal(broken, Assert.IsType<InvalidInputException>(e.InnerException).Path);
            // The last checkpoint is whole and loadable, at a step after the file broke and before the end.
            string last = Path.Combine(dir, "checkpoints", "baseline", "last");
            var state = CheckpointIO.Verify(last);
            Assert.InRange(state.Step, 3, 11);
            CheckpointIO.LoadWeights(last, new CnnModel(cnn));
        }
        finally { TestRecipes.DeleteDir(dir); }
    }
}
