using System.Text.Json.Nodes;
using Distill.Checkpoints;
using Distill.Tests.Runs;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Cli;

/// <summary>
/// Issue 18, row 3: diverging SGD (lr 10, momentum 0.99, no clipping) on a small MLP. A loss guard stops the run
/// (exit 1, naming the step and the rule), the checkpoint left is finite and is not the one whose weights gave the bad
/// loss, and --resume with a lower train.lr (the one kind of change a resume allows) finishes the stage.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class DivergenceTests : IDisposable
{
    private readonly FaultFixtures _fx = new();

    public void Dispose() => _fx.Dispose();

    private string DivergingRecipe(string guard) => _fx.Recipe(
        teacher: "model: mlp\nconfig: {hidden_sizes: [32]}",
        student: "model: mlp\nconfig: {hidden_sizes: [32]}",
        train: "optimizer: sgd\nlr: 10\nmomentum: 0.99\nweight_decay: 0\ngrad_clip: null\nschedule: constant\nwarmup_steps: 10\n" +
               $"steps: 30\nbatch_size: 32\ncheckpoint_every: 1\nlog_every: 1\nhistogram_every: null\nseed: 7\n{guard}");

    [Theory]
    [InlineData("max_loss: 20", "exceeds train.max_loss = 20")]
    [InlineData("loss_spike: 4", "is more than train.loss_spike = 4")]
    public void ALossGuardStopsDivergenceAndResumeWithALowerLrRecovers(string guard, string expected)
    {
        string recipe = DivergingRecipe(guard);
        string runDir = _fx.NewRunDir();
        var (exit, output, err) = CliRunner.Run("run", recipe, "--out", runDir);
        Assert.True(exit == 1, err + output);
        Assert.Contains(expected, err);
        var step = long.Parse(System.Text.RegularExpressions.Regex.Match(err, @"at step (\d+)").Groups[1].Value);
        Assert.Contains("--resume --set train.lr=", err); // the way out

        // The checkpoint of step - 1 holds the weights that gave the bad loss: dropped; the one before is kept.
        string last = Path.Combine(runDir, "checkpoints", "baseline", "last");
        var state = CheckpointIO.Verify(last);
        Assert.Equal(step - 2, state.Step);
        foreach (var (name, t) in SafeTensors.Load(Path.Combine(last, "model.safetensors")))
            Assert.True(t.isfinite().all().item<bool>(), name);
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(last)!, "*.tmp-*"));

        // The same lr walks into the same divergence; a lower one finishes.
        var same = CliRunner.Run("run", recipe, "--out", runDir, "--resume");
        Assert.Equal(1, same.Exit);
        var lower = CliRunner.Run("run", recipe, "--out", runDir, "--resume", "--set", "train.lr=0.05");
        Assert.True(lower.Exit == 0, lower.Err + lower.Out);
        Assert.Contains($"resuming at step {step - 2}", lower.Out);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!;
        Assert.Equal("--set train.lr=0.05", (string)summary["resume_changes"]![0]!);
        Assert.Equal(30, (long)summary["stages"]![0]!["steps"]!);
    }

    [Fact]
    public void AResumeMayNotChangeAnythingElse()
    {
        string recipe = DivergingRecipe("max_loss: 20");
        string runDir = _fx.NewRunDir();
        Assert.Equal(1, CliRunner.Run("run", recipe, "--out", runDir).Exit);
        var (exit, _, err) = CliRunner.Run("run", recipe, "--out", runDir, "--resume", "--set", "train.lr=0.05", "--set", "train.momentum=0.5");
        Assert.Equal(2, exit);
        Assert.Contains("different recipe", err);
        Assert.Contains("train.lr, train.grad_clip, train.max_loss, train.loss_spike", err);
    }
}
