using System.Diagnostics;
using Distill.Checkpoints;
using Distill.Logging;
using Distill.Models;
using Distill.Recipes;
using Distill.Stages.Results;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Stages;

/// <summary>What every training stage does around the <see cref="Trainer"/>: optimizer, resume, callbacks, final model and result.</summary>
internal static class StageTraining
{
    /// <param name="stageCallbacks">The stage's own callbacks (pruning masks), called before the checkpoint and logging ones.</param>
    /// <param name="trainData">The training data when it is not the run's own (the teacher-output cache wraps it).</param>
    /// <returns>The stage's entry with the standard keys, <c>best_accuracy</c> and <c>model_dir</c> filled.</returns>
    public static T Train<T>(RunEnvironment run, StageSpec stage, DistillModel model, IObjective objective,
        IEnumerable<ITrainerCallback>? stageCallbacks = null, Data.IDataset? trainData = null) where T : ModelStageResult, new()
    {
        var spec = run.TrainFor(stage);
        var clock = Stopwatch.StartNew();
        var precision = MixedPrecision.For(spec.Precision, run.Device);
        if (spec.Precision == Precision.Auto)
            run.Log.WriteLine($"[{stage.DisplayName}] precision auto: {precision.Name} ({(precision.Precision == Precision.Bf16 ? "this CPU multiplies bf16 natively"
                : run.Device.type == DeviceType.CUDA ? "auto picks fp32 on CUDA; set bf16 explicitly" : "bf16 is not native here")})");
        precision.Convert(model, objective.Trainable); // before the parameters are listed: to(dtype) replaces them
        var parameters = model.parameters().Concat(objective.Trainable?.parameters() ?? []).Where(p => p.requires_grad);
        using var optimizer = precision.CreateOptimizer(spec, parameters);
        // Seeded as the global generator was (manual_seed(seed) before training): the same seed gives the same dropout masks.
        var generator = new Generator(unchecked((ulong)spec.Seed), run.Device);
        var session = new TrainingSession(stage.DisplayName, model, objective, optimizer, Trainer.TotalSteps(spec, (trainData ?? run.TrainData).Count), generator);
        string ckptDir = run.CheckpointDir(stage);
        if (run.Resuming && CheckpointIO.Locate(Path.Combine(ckptDir, "last")) is { } last)
        {
            TrainingCheckpoints.RestoreSession(last, session);
            (optimizer as MasterWeightOptimizer)?.SyncFromModel();
            run.Log.WriteLine($"[{stage.DisplayName}] resuming at step {session.Step} of {session.TotalSteps} from {last}");
        }

        var final = new FinalMetrics();
        var checkpoints = new CheckpointCallback(ckptDir, stage.Kind, spec.CheckpointEvery, run.RecipeSha256);
        var callbacks = new List<ITrainerCallback>(stageCallbacks ?? []) { final, checkpoints };
        if (run.Recipe.Output.Tensorboard)
            callbacks.Add(new TensorBoardCallback(Path.Combine(run.RunDir, "tb", stage.DisplayName), spec.LogEvery, spec.HistogramEvery));
        callbacks.AddRange(run.ExtraCallbacks(stage.DisplayName));

        var evals = run.EvalSplits.Select(s => s with { Data = precision.Inputs(s.Data) }).ToList();
        new Trainer(spec, callbacks) { Prefetch = run.Recipe.Data.Prefetch }.Fit(session, precision.Inputs(trainData ?? run.TrainData), evals, run.Recipe.Data.EvalBatchSize, run.Device);
        var bySplit = final.BySplit ?? Evaluator.EvaluateAll(model, evals, run.Recipe.Data.EvalBatchSize, run.Device, run.Recipe.Data.Prefetch);
        var metrics = bySplit[0].Metrics;
        TrainingCheckpoints.SaveModel(run.ModelDir(stage), model, new CheckpointState
        {
            Stage = stage.DisplayName, Kind = stage.Kind, Step = session.Step, TotalSteps = session.TotalSteps,
            BestAccuracy = double.IsNaN(session.BestAccuracy) ? null : session.BestAccuracy,
            BestWer = double.IsNaN(session.BestWer) ? null : session.BestWer, RecipeSha256 = run.RecipeSha256,
        });
        return new T
        {
            Name = stage.DisplayName,
            Metrics = metrics,
            MetricsBySplit = bySplit,
            Params = model.ParameterCount(),
            ModelBytes = model.ParameterBytes(),
            WallSeconds = clock.Elapsed.TotalSeconds,
            Steps = session.Step,
            // Transcription stages rank by WER: their entry carries best_wer and no best_accuracy.
            BestAccuracy = metrics.ContainsKey(EvalMetrics.Wer) ? null : session.BestAccuracy,
            BestWer = metrics.ContainsKey(EvalMetrics.Wer) ? session.BestWer : null,
            ModelDir = run.RelativeModelDir(stage),
            Precision = precision.Name,
        };
    }

    /// <summary>A stage's model that was not trained: evaluated, saved as the stage's model, its entry filled (no
    /// <c>best_accuracy</c>, no steps; the caller sets the wall time).</summary>
    public static T Evaluated<T>(RunEnvironment run, StageSpec stage, DistillModel model) where T : ModelStageResult, new()
    {
        var (metrics, bySplit) = run.Evaluate(model);
        TrainingCheckpoints.SaveModel(run.ModelDir(stage), model, new CheckpointState { Stage = stage.DisplayName, Kind = stage.Kind, RecipeSha256 = run.RecipeSha256 });
        return new T
        {
            Name = stage.DisplayName, Metrics = metrics, MetricsBySplit = bySplit, Params = model.ParameterCount(),
            ModelBytes = model.ParameterBytes(), ModelDir = run.RelativeModelDir(stage),
        };
    }

    /// <summary>Remembers the last evaluation, which the trainer runs at the final step.</summary>
    private sealed class FinalMetrics : ITrainerCallback
    {
        public IReadOnlyList<SplitMetrics>? BySplit { get; private set; }

        public void OnEval(TrainingSession session, EvalInfo eval)
        {
            if (eval.Step == session.TotalSteps) BySplit = eval.BySplit;
        }
    }
}
