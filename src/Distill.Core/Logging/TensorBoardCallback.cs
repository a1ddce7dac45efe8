using Distill.Training;
using TorchSharp;
using TorchSharp.Modules;

namespace Distill.Logging;

/// <summary>
/// Writes a stage's training curves with TorchSharp's <c>SummaryWriter</c> to <c>&lt;run&gt;/tb/&lt;stage&gt;/</c>, so TensorBoard
/// shows each stage as a run and overlays equal tags (baseline vs distill): <c>loss/&lt;term&gt;</c>, <c>loss/total</c>, <c>lr</c>,
/// <c>throughput</c> (examples/s), <c>eval/accuracy</c>, <c>eval/macro_f1</c>, <c>eval/loss</c>, and <c>weights/&lt;param&gt;</c> histograms.
/// Wall times are passed explicitly in Unix seconds (the writer's own default is a .NET tick count).
/// </summary>
public sealed class TensorBoardCallback(string logDir, int logEvery, int? histogramEvery) : ITrainerCallback
{
    private SummaryWriter? _writer;

    private SummaryWriter Writer => _writer ??= torch.utils.tensorboard.SummaryWriter(logDir, createRunName: false);

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public void OnStep(TrainingSession session, StepInfo step)
    {
        int s = checked((int)step.Step);
        if (step.Step % logEvery == 0 || step.Step == step.TotalSteps)
        {
            foreach (var (name, value) in step.Terms) Writer.add_scalar($"loss/{name}", (float)value, s, Now);
            Writer.add_scalar("loss/total", (float)step.Total, s, Now);
            Writer.add_scalar("lr", (float)step.LearningRate, s, Now);
            Writer.add_scalar("throughput", (float)step.ExamplesPerSecond, s, Now);
        }
        if (histogramEvery is { } every && (step.Step % every == 0 || step.Step == step.TotalSteps))
        {
            using var scope = torch.NewDisposeScope();
            foreach (var (name, p) in session.Model.named_parameters())
                Writer.add_histogram($"weights/{name}", p.detach().cpu(), s, walltime: Now);
        }
    }

    public void OnEval(TrainingSession session, EvalInfo eval)
    {
        foreach (var (name, value) in eval.Metrics) Writer.add_scalar($"eval/{name}", (float)value, checked((int)eval.Step), Now);
    }
}
