using Distill.Training;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>A Spectre.Console progress bar per stage with loss, throughput and ETA (when stdout is a terminal).</summary>
public sealed class TerminalProgress(ProgressContext context, string stage) : ITrainerCallback
{
    private ProgressTask? _task;
    private string _eval = "";

    public void OnStageStart(TrainingSession session)
    {
        _task = context.AddTask(Markup.Escape(stage), maxValue: session.TotalSteps);
        _task.Value = session.Step;
    }

    public void OnStep(TrainingSession session, StepInfo step)
    {
        if (_task is null) return;
        _task.Value = step.Step;
        _task.Description = Markup.Escape($"{stage} {ProgressText.Loss(step)} {step.ExamplesPerSecond:0} ex/s{_eval}");
    }

    public void OnEval(TrainingSession session, EvalInfo eval)
    {
        var (name, _) = EvalMetrics.Primary(eval.Metrics); // accuracy, or wer on transcript data
        _eval = $" {(name == "accuracy" ? "acc" : name)} {eval.Metrics[name]:0.0000}";
    }

    public void OnStageEnd(TrainingSession session)
    {
        if (_task is not null) _task.Value = _task.MaxValue;
    }
}
