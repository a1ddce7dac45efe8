using Distill.Checkpoints;
using Distill.Training;

namespace Distill.Logging;

/// <summary>
/// Keeps <c>last/</c> (resumable: model, projectors, optimizer, RNG, step) every <c>checkpoint_every</c> steps and at the
/// end of the stage, and <c>best/</c> (model only) whenever an evaluation beats the best accuracy so far.
/// </summary>
public sealed class CheckpointCallback(string stageDir, string kind, int every, string recipeSha256) : ITrainerCallback
{
    public string LastDir => Path.Combine(stageDir, "last");

    public string BestDir => Path.Combine(stageDir, "best");

    public void OnStep(TrainingSession session, StepInfo step)
    {
        if (step.Step % every == 0 && step.Step != step.TotalSteps) CheckpointIO.SaveSession(LastDir, session, kind, recipeSha256);
    }

    public void OnEval(TrainingSession session, EvalInfo eval)
    {
        if (eval.IsBest)
            CheckpointIO.SaveModel(BestDir, session.Model, new CheckpointState
            {
                Stage = session.Stage, Kind = kind, Step = eval.Step, TotalSteps = session.TotalSteps,
                BestAccuracy = eval.Metrics["accuracy"], RecipeSha256 = recipeSha256,
            });
    }

    public void OnStageEnd(TrainingSession session) => CheckpointIO.SaveSession(LastDir, session, kind, recipeSha256);
}
