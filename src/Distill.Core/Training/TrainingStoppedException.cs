namespace Distill.Training;

/// <summary>
/// A guard stopped training: a non-finite loss, a loss over <c>train.max_loss</c> or a spike over
/// <c>train.loss_spike</c>, or a non-finite tensor a checkpoint would have saved. The run fails (exit code 1) and the
/// last checkpoint on disk is kept: it is finite, and its weights gave a loss that passed the guards.
/// </summary>
public abstract class TrainingStoppedException(string stage, long step, string message) : Exception(message)
{
    public string Stage { get; } = stage;

    /// <summary>The step (1-based) at which training stopped; for a checkpoint guard, the step of the refused checkpoint.</summary>
    public long Step { get; } = step;

    /// <summary>What a message ends with: how to continue.</summary>
    protected const string Recovery =
        "The run stopped. Any checkpoint it kept is finite and its weights passed the loss guards: continue from it with a " +
        "lower learning rate (distill run <recipe> --resume --set train.lr=<lower>), gradient clipping (--set train.grad_clip=1) " +
        "or an earlier stop (--set train.max_loss=<limit>); a fresh run stopped before its first checkpoint leaves no folder, so " +
        "run it again with those --set instead. See README \"Failures and recovery\".";
}
