namespace Distill.Training;

/// <summary>
/// The values of a recipe's train section as <see cref="Trainer"/> reads them (its <see cref="LrSchedule"/> included;
/// the optimizer's part is <see cref="IOptimizerSettings"/>): plain values, so that training (layer 2) does not depend on the recipe records
/// above it. The recipe's <c>TrainSpec</c> implements it.
/// </summary>
public interface ITrainSettings : IOptimizerSettings
{
    ScheduleKind Schedule { get; }

    /// <summary>Steps of linear warm-up from 0 to <see cref="IOptimizerSettings.Lr"/> before the decay.</summary>
    int WarmupSteps { get; }

    /// <summary>Passes over the training set; null when <see cref="Steps"/> is given.</summary>
    double? Epochs { get; }

    /// <summary>Optimizer steps; null when <see cref="Epochs"/> is given.</summary>
    int? Steps { get; }

    /// <summary>Examples per optimizer step (split into <see cref="GradAccumSteps"/> micro-batches).</summary>
    int BatchSize { get; }

    /// <summary>
    /// Micro-batches each optimizer step's <see cref="BatchSize"/> examples are split into, their gradients summed before
    /// the step (see <see cref="Trainer"/>): the memory of a smaller batch, the result of the whole one. 1 = no accumulation.
    /// </summary>
    int GradAccumSteps { get; }

    /// <summary>Evaluate every N steps (and always at the end); null = only at the end.</summary>
    int? EvalEvery { get; }

    /// <summary>Clip the global gradient norm to this value; null = no clipping.</summary>
    double? GradClip { get; }

    /// <summary>Stop when a step's total loss exceeds this; null = no limit.</summary>
    double? MaxLoss { get; }

    /// <summary>Stop when a step's total loss exceeds this factor times the median of the previous <see cref="Trainer.LossSpikeWindow"/> steps' losses; null = off.</summary>
    double? LossSpike { get; }

    /// <summary>Seeds the order of the training examples.</summary>
    long Seed { get; }
}
