using Distill.Logging;
using Distill.Training;

namespace Distill.Compression.Pruning;

/// <summary>
/// Enforces a <see cref="MaskSet"/> during training: masks are computed at the start of a fresh stage (or come from
/// the checkpoint when resuming), recomputed at the schedule's update steps, and applied after every optimizer step,
/// before evaluation and checkpoints see the weights. With a log directory it writes <c>sparsity/&lt;weight&gt;</c> and
/// <c>sparsity/overall</c> to TensorBoard at every mask change.
/// </summary>
public sealed class PruningCallback(MaskSet masks, PruningPlan plan, string? tensorboardDir = null) : ITrainerCallback
{
    private EventFileWriter? _writer;

    /// <summary>Mask recomputations done by this callback (not counting those before a resume).</summary>
    public int Updates { get; private set; }

    public void OnStageStart(TrainingSession session)
    {
        // A resumed session already holds the masks of its checkpoint; a fresh one computes its first masks.
        if (session.Step == 0 && plan.Start(masks)) Changed(0);
        masks.Apply();
    }

    public void OnAfterOptimizerStep(TrainingSession session)
    {
        if (plan.Update(masks, session.Step)) Changed(session.Step);
        masks.Apply();
    }

    private void Changed(long step)
    {
        Updates++;
        if (tensorboardDir is null) return;
        _writer ??= new EventFileWriter(tensorboardDir);
        foreach (var name in masks.Names) _writer.Scalar($"sparsity/{name}", masks.Sparsity(name), step);
        _writer.Scalar("sparsity/overall", masks.OverallSparsity(), step);
    }
}
