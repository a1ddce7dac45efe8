namespace Distill.Training;

/// <summary>
/// What <see cref="OptimizerFactory"/> reads to build an optimizer: plain values, so that the trainer (layer 2) does not
/// depend on the recipe records above it. The recipe's <c>TrainSpec</c> implements it.
/// </summary>
public interface IOptimizerSettings
{
    OptimizerKind Optimizer { get; }

    /// <summary>The base learning rate (before the schedule).</summary>
    double Lr { get; }

    /// <summary>Weight decay of every parameter (decoupled in AdamW).</summary>
    double WeightDecay { get; }

    /// <summary>SGD momentum (ignored by AdamW).</summary>
    double Momentum { get; }
}
