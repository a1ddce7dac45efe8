using System.Text.Json.Nodes;
using Distill.Tests.Cli;
using Distill.Tests.Training;
using Xunit;

namespace Distill.Tests.Runs;

/// <summary>A run on your own data with two evaluation splits: every evaluation reports both; metrics stay the first's.</summary>
[Collection(SerialCollection.Name)]
public sealed class EvalSplitsRunTests : IDisposable
{
    private readonly OwnData _data = new();

    public void Dispose() => _data.Dispose();

    [Fact]
    public void EveryEvaluationReportsEachSplitAndMetricsKeepTheFirst()
    {
        string runDir = _data.NewRunDir();
        var (exit, output, err) = CliRunner.Run("run", _data.Recipe(), "--out", runDir);
        Assert.True(exit == 0, err + output);

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!;
        Assert.Equal(OwnData.Classes, summary["labels"]!.AsArray().Select(l => (string)l!));
        var stage = summary["stages"]![0]!;
        var bySplit = stage["metrics_by_split"]!.AsObject();
        Assert.Equal(["validation", "test"], bySplit.Select(kv => kv.Key));
        Assert.Equal((double)stage["metrics"]!["accuracy"]!, (double)bySplit["validation"]!["accuracy"]!);
        Assert.Equal((double)stage["metrics"]!["loss"]!, (double)bySplit["validation"]!["loss"]!);
        Assert.NotNull(bySplit["test"]!["macro_f1"]);
        // the best checkpoint is chosen on the first split
        Assert.Equal(TensorBoardBest(runDir), (double)stage["best_accuracy"]!, 6);

        var tags = TensorBoardEvents.ReadScalars(Path.Combine(runDir, "tb", "baseline")).Select(s => (s.Tag, s.Step)).ToHashSet();
        foreach (long step in new long[] { 3, 6 })
            foreach (var tag in new[] { "eval/accuracy", "eval/validation/accuracy", "eval/test/accuracy", "eval/test/macro_f1", "eval/validation/loss" })
                Assert.Contains((tag, step), tags);
    }

    private static double TensorBoardBest(string runDir) =>
        TensorBoardEvents.ReadScalars(Path.Combine(runDir, "tb", "baseline")).Where(s => s.Tag == "eval/validation/accuracy").Max(s => s.Value);
}
