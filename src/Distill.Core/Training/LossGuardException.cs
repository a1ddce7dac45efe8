namespace Distill.Training;

/// <summary>A finite loss broke <c>train.max_loss</c> or <c>train.loss_spike</c>: training diverges, so it stops before
/// the weights overflow (an overflowed weight would be finite yet useless, and a checkpoint of it no resume point).</summary>
public sealed class LossGuardException(string stage, long step, string term, double value, string rule)
    : TrainingStoppedException(stage, step, $"Stage '{stage}': loss '{term}' = {value:G4} at step {step} {rule}. {Recovery}")
{
    public string Term { get; } = term;
}
