using Distill.Training;
using TorchSharp;

namespace Distill.Logging;

/// <summary>
/// Writes a stage's training curves to <c>&lt;run&gt;/tb/&lt;stage&gt;/</c> (an <see cref="EventFileWriter"/>), so TensorBoard
/// shows each stage as a run and overlays equal tags (baseline vs distill): <c>loss/&lt;term&gt;</c>, <c>loss/total</c>, <c>lr</c>,
/// <c>throughput</c> (examples/s), <c>eval/accuracy</c>, <c>eval/macro_f1</c>, <c>eval/loss</c> (transcript data: <c>eval/wer</c>, <c>eval/cer</c>, <c>eval/exact_match</c>, <c>eval/loss</c>; the first evaluation split;
/// with several, also <c>eval/&lt;split&gt;/&lt;metric&gt;</c> for each), and <c>weights/&lt;param&gt;</c> histograms.
/// </summary>
public sealed class TensorBoardCallback(string logDir, int logEvery, int? histogramEvery) : ITrainerCallback
{
    private EventFileWriter? _writer;

    private EventFileWriter Writer => _writer ??= new EventFileWriter(logDir);

    public void OnStep(TrainingSession session, StepInfo step)
    {
        long s = step.Step;
        if (s % logEvery == 0 || s == step.TotalSteps)
        {
            foreach (var (name, value) in step.Terms) Writer.Scalar($"loss/{name}", value, s);
            Writer.Scalar("loss/total", step.Total, s);
            Writer.Scalar("lr", step.LearningRate, s);
            Writer.Scalar("throughput", step.ExamplesPerSecond, s);
        }
        if (histogramEvery is { } every && (s % every == 0 || s == step.TotalSteps))
        {
            using var scope = torch.NewDisposeScope();
            foreach (var (name, p) in session.Model.named_parameters()) Writer.Histogram($"weights/{name}", p, s);
        }
    }

    public void OnEval(TrainingSession session, EvalInfo eval)
    {
        foreach (var (name, value) in eval.Metrics) Writer.Scalar($"eval/{name}", value, eval.Step);
        if (eval.BySplit is not { Count: > 1 } splits) return; // one split: eval/<metric> as before, so older runs overlay
        foreach (var split in splits)
            foreach (var (name, value) in split.Metrics) Writer.Scalar($"eval/{split.Split}/{name}", value, eval.Step);
    }
}
