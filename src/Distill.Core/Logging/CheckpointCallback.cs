using Distill.Checkpoints;
using Distill.Training;

namespace Distill.Logging;

/// <summary>
/// Keeps <c>last/</c> (resumable: model, projectors, optimizer, RNG, step) every <c>checkpoint_every</c> steps and at the
/// end of the stage, and <c>best/</c> (model only) whenever an evaluation beats the best accuracy so far.
/// <para>A periodic <c>last/</c> is committed only once the next step's loss — the first loss its weights produce — has
/// passed the trainer's guards (finite, <c>max_loss</c>, <c>loss_spike</c>): when training diverges, the checkpoint of
/// the weights that produced the bad loss is dropped and the one before stays, so <c>--resume</c> does not start from
/// weights that already diverged. Stopped for any other reason (an error elsewhere, an interrupt), the staged checkpoint
/// is committed as it would have been.</para>
/// </summary>
public sealed class CheckpointCallback(string stageDir, string kind, int every, string recipeSha256) : ITrainerCallback
{
    private StagedCheckpoint? _pending;

    public string LastDir => Path.Combine(stageDir, "last");

    public string BestDir => Path.Combine(stageDir, "best");

    public void OnStep(TrainingSession session, StepInfo step)
    {
        if (step.Step % every != 0 || step.Step == step.TotalSteps) return;
        _pending?.Discard();
        _pending = TrainingCheckpoints.StageSession(LastDir, session, kind, recipeSha256);
    }

    // The trainer calls this after the step's loss passed its guards: the staged weights gave a good loss.
    public void OnBeforeOptimizerStep(TrainingSession session) => Commit();

    public void OnEval(TrainingSession session, EvalInfo eval)
    {
        if (eval.IsBest)
            TrainingCheckpoints.SaveModel(BestDir, session.Model, new CheckpointState
            {
                Stage = session.Stage, Kind = kind, Step = eval.Step, TotalSteps = session.TotalSteps,
                BestAccuracy = eval.Metrics.TryGetValue("accuracy", out var accuracy) ? accuracy : null,
                BestWer = eval.Metrics.TryGetValue("wer", out var wer) ? wer : null, RecipeSha256 = recipeSha256,
            });
    }

    public void OnStageEnd(TrainingSession session)
    {
        Commit();
        TrainingCheckpoints.SaveSession(LastDir, session, kind, recipeSha256);
    }

    public void OnAborted(TrainingSession session, Exception error)
    {
        if (error is TrainingStoppedException) _pending?.Discard();
        else _pending?.Commit();
        _pending = null;
    }

    private void Commit()
    {
        _pending?.Commit();
        _pending = null;
    }
}
