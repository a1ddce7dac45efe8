using Distill.Models;
using static TorchSharp.torch;
using TorchSharp;

namespace Distill.Training;

/// <summary>Everything a callback may read about the training in progress.</summary>
/// <param name="Generator">Where the model's training randomness (dropout masks...) is drawn, on the training device;
/// seeded by the stage, its state is part of a resumable checkpoint.</param>
public sealed record TrainingSession(string Stage, DistillModel Model, IObjective Objective, TorchSharp.Modules.OptimizerHelper Optimizer, long TotalSteps,
    Generator Generator)
{
    /// <summary>Optimizer steps completed so far.</summary>
    public long Step { get; set; }

    /// <summary>Best evaluation accuracy seen so far in this stage (NaN before the first evaluation).</summary>
    public double BestAccuracy { get; set; } = double.NaN;

    /// <summary>Best (lowest) word error rate seen so far, for transcription (CTC) evaluations (NaN before the first, and for classification).</summary>
    public double BestWer { get; set; } = double.NaN;

    /// <summary>Total losses of the latest steps, oldest first (the <c>train.loss_spike</c> window); saved in checkpoints so
    /// that a resumed run keeps its guard.</summary>
    public List<double> RecentLosses { get; } = [];
}

/// <summary>One optimizer step done: the values are plain numbers, read after the step's scope closed.</summary>
public sealed record StepInfo(long Step, long TotalSteps, double LearningRate, double Total, IReadOnlyList<(string Name, double Value)> Terms, double ExamplesPerSecond);

/// <summary>
/// An evaluation done at <paramref name="Step"/>: <paramref name="Metrics"/> are the first split's, which decides
/// <paramref name="IsBest"/> (its primary metric, <see cref="EvalMetrics.Primary"/>, beats every earlier one: higher accuracy, or lower WER); <paramref name="BySplit"/> holds every split's
/// when the trainer evaluated named splits (null otherwise).
/// </summary>
public sealed record EvalInfo(long Step, IReadOnlyDictionary<string, double> Metrics, bool IsBest, IReadOnlyList<SplitMetrics>? BySplit = null);
