using System.Text.Json.Nodes;
using Distill.Checkpoints;
using Distill.Tests.Runs;
using Xunit;

namespace Distill.Tests.Cli;

/// <summary>
/// Issue 18, rows 1, 4 and 6: every checkpoint carries the SHA-256 of its files; --resume verifies the checkpoints it
/// will use before loading anything and refuses a damaged one with exit 2, naming the file and what to do.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class CheckpointFaultTests : IDisposable
{
    private readonly FaultFixtures _fx = new();

    public void Dispose() => _fx.Dispose();

    /// <summary>A baseline stage stopped after step 4 of 6 (checkpoints every 2 steps): <c>last</c> is at step 4.</summary>
    private (string Recipe, string RunDir, string Last) Interrupted()
    {
        string recipe = _fx.Recipe(), runDir = _fx.NewRunDir();
        FaultFixtures.InterruptedRun(recipe, runDir, "baseline", 4);
        string last = Path.Combine(runDir, "checkpoints", "baseline", "last");
        Assert.Equal(4, CheckpointIO.ReadState(last).Step);
        return (recipe, runDir, last);
    }

    [Fact]
    public void EveryCheckpointFileIsChecksummed()
    {
        var (_, _, last) = Interrupted();
        var sums = JsonNode.Parse(File.ReadAllText(Path.Combine(last, CheckpointChecksums.FileName)))!["sha256"]!.AsObject();
        Assert.Equal(["model.safetensors", "optimizer.bin", "rng.safetensors", "state.json"], sums.Select(kv => kv.Key).Order());
        foreach (var (name, hex) in sums) Assert.Equal(CheckpointChecksums.Sha256(Path.Combine(last, name)), (string)hex!);
        Assert.True(CheckpointChecksums.Verify(last));
    }

    [Fact]
    public void FlippedBytesInTheLastCheckpointAreRefusedOnResumeNamingTheFile()
    {
        var (recipe, runDir, last) = Interrupted();
        string model = Path.Combine(last, "model.safetensors");
        FaultFixtures.FlipByte(model, -10); // in the data section: the header still parses
        SafeTensors.ReadHeader(model);
        string summary = File.ReadAllText(Path.Combine(runDir, "summary.json"));

        var (exit, output, err) = CliRunner.Run("run", recipe, "--out", runDir, "--resume");
        Assert.True(exit == 2, err + output);
        Assert.Contains(model, err);
        Assert.Contains("does not match the SHA-256", err);
        Assert.Contains($"delete {last}", err);
        Assert.Contains("best", err); // the intact model-only checkpoint is offered
        Assert.Equal(summary, File.ReadAllText(Path.Combine(runDir, "summary.json")));

        Directory.Delete(last, recursive: true); // the fix the message gives
        var again = CliRunner.Run("run", recipe, "--out", runDir, "--resume");
        Assert.True(again.Exit == 0, again.Err + again.Out);
    }

    [Fact]
    public void TruncatedOptimizerStateIsRefusedOnResume()
    {
        var (recipe, runDir, last) = Interrupted();
        string optimizer = Path.Combine(last, "optimizer.bin");
        FaultFixtures.Truncate(optimizer, new FileInfo(optimizer).Length / 2);
        var (exit, _, err) = CliRunner.Run("run", recipe, "--out", runDir, "--resume");
        Assert.Equal(2, exit);
        Assert.Contains(optimizer, err);
        Assert.DoesNotContain("past the end of the stream", err);

        // A checkpoint from before checksums: found while restoring, a failure of the run (exit 1) that still names the file.
        File.Delete(Path.Combine(last, CheckpointChecksums.FileName));
        var legacy = CliRunner.Run("run", recipe, "--out", runDir, "--resume");
        Assert.Equal(1, legacy.Exit);
        Assert.Contains(optimizer, legacy.Err);
        Assert.Contains("truncated or damaged", legacy.Err);
        Assert.Contains($"Delete {last}", legacy.Err);
    }

    [Fact]
    public void BrokenStateJsonIsRefusedOnResumeNamingTheFile()
    {
        var (recipe, runDir, last) = Interrupted();
        string state = Path.Combine(last, "state.json");
        File.WriteAllText(state, "{\"format\": \"distill-checkpoint/1\", \"step\": ");
        var (exit, _, err) = CliRunner.Run("run", recipe, "--out", runDir, "--resume");
        Assert.Equal(2, exit);
        Assert.Contains(state, err);

        File.Delete(Path.Combine(last, CheckpointChecksums.FileName));
        var legacy = CliRunner.Run("run", recipe, "--out", runDir, "--resume");
        Assert.Equal(2, legacy.Exit);
        Assert.Contains($"{state}: not a valid checkpoint state", legacy.Err);
        Assert.Contains("damaged", legacy.Err);
    }

    [Fact]
    public void BrokenSummaryJsonIsRefusedOnResumeNamingTheFile()
    {
        var (recipe, runDir, _) = Interrupted();
        string summary = Path.Combine(runDir, "summary.json");
        File.WriteAllText(summary, "{\"recipe\": \"x\", \"stages\": [{\"name\": ");
        var (exit, _, err) = CliRunner.Run("run", recipe, "--out", runDir, "--resume");
        Assert.Equal(2, exit);
        Assert.Contains($"{summary}: not a readable run summary", err);
    }
}
