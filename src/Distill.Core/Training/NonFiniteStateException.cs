namespace Distill.Training;

/// <summary>A tensor a checkpoint would save (a parameter, a buffer such as BatchNorm's running statistics, an optimizer
/// moment) holds NaN or infinity: the checkpoint is not written and the run stops, so the checkpoint on disk stays finite.</summary>
public sealed class NonFiniteStateException(string stage, long step, string tensor, long count, string checkpoint)
    : TrainingStoppedException(stage, step,
        $"Stage '{stage}', step {step}: {tensor} holds {count} non-finite value{(count == 1 ? "" : "s")} (NaN or infinity), " +
        $"so the checkpoint {checkpoint} was not written. {Recovery}")
{
    public string Tensor { get; } = tensor;
}
