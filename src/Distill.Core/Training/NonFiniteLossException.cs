namespace Distill.Training;

/// <summary>A loss became NaN or infinite. The run stops; the last good checkpoint stays on disk.</summary>
public sealed class NonFiniteLossException(string stage, long step, string term, double value)
    : Exception($"Stage '{stage}': loss term '{term}' is {value} at step {step}. The run stopped; the last good checkpoint is kept. " +
                "Lower train.lr, add train.grad_clip, or check the term's inputs.")
{
    public long Step { get; } = step;
    public string Term { get; } = term;
}
