namespace Distill.Training;

/// <summary>A loss became NaN or infinite. The run stops; the last good checkpoint stays on disk.</summary>
public sealed class NonFiniteLossException(string stage, long step, string term, double value)
    : TrainingStoppedException(stage, step, $"Stage '{stage}': loss term '{term}' is {value} at step {step}. {Recovery}")
{
    public string Term { get; } = term;
}
