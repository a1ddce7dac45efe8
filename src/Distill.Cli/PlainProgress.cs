using Distill.Training;

namespace Distill.Cli;

/// <summary>Progress as plain lines (when stdout is not a terminal): one line every <c>log_every</c> steps and per evaluation.</summary>
public sealed class PlainProgress(string stage, int every, TextWriter output) : ITrainerCallback
{
    private readonly System.Diagnostics.Stopwatch _clock = new();
    private long _startStep;

    public void OnStageStart(TrainingSession session)
    {
        _startStep = session.Step;
        _clock.Restart();
        output.WriteLine($"[{stage}] {session.TotalSteps} steps" + (session.Step > 0 ? $", resuming at {session.Step}" : ""));
    }

    public void OnStep(TrainingSession session, StepInfo step)
    {
        if (step.Step % every != 0 && step.Step != step.TotalSteps) return;
        output.WriteLine($"[{stage}] step {step.Step}/{step.TotalSteps} {ProgressText.Loss(step)} lr {step.LearningRate:0.###e0} " +
                         $"{step.ExamplesPerSecond:0} ex/s ETA {ProgressText.Eta(_clock.Elapsed, step.Step - _startStep, step.TotalSteps - step.Step)}");
    }

    public void OnEval(TrainingSession session, EvalInfo eval) =>
        output.WriteLine($"[{stage}] eval at step {eval.Step}: {ProgressText.Metrics(eval.Metrics)}{(eval.IsBest ? " (best)" : "")}");
}
