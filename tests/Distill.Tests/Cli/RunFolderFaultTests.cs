using System.Diagnostics;
using Distill.Runs;
using Distill.Tests.Runs;
using Xunit;

namespace Distill.Tests.Cli;

/// <summary>Issue 18, rows 2, 5 and 7: one process per run folder, stale temporaries removed, unwritable outputs, failed fresh runs leave no folder.</summary>
[Collection(SerialCollection.Name)]
public sealed class RunFolderFaultTests : IDisposable
{
    private readonly FaultFixtures _fx = new();

    public void Dispose() => _fx.Dispose();

    private (int Exit, string Out, string Err) Run(string runDir, params string[] extra) =>
        CliRunner.Run(["run", _fx.Recipe(), "--out", runDir, .. extra]);

    [Fact]
    public async Task ResumeOfARunFolderAnotherProcessHoldsExitsTwoNamingThatProcess()
    {
        string runDir = _fx.NewRunDir();
        var first = Run(runDir);
        Assert.True(first.Exit == 0, first.Err + first.Out);
        string summary = File.ReadAllText(Path.Combine(runDir, "summary.json"));

        // The holder is this test process; the second run is a real second process, as in the issue.
        using (RunLock.Acquire(runDir))
        {
            string dll = typeof(Distill.Cli.ExitCodes).Assembly.Location;
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { dll, "run", _fx.Recipe(), "--out", runDir, "--resume" }) psi.ArgumentList.Add(a);
            using var child = Process.Start(psi)!;
            var stderrTask = child.StandardError.ReadToEndAsync();
            var stdoutTask = child.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await child.WaitForExitAsync(timeout.Token);
            string stderr = await stderrTask, stdout = await stdoutTask;
            Assert.True(child.ExitCode == 2, stderr + stdout);
            Assert.Contains("in use by another distill process", stderr);
            Assert.Contains($"pid {Environment.ProcessId}", stderr);
        }
        Assert.Equal(summary, File.ReadAllText(Path.Combine(runDir, "summary.json")));

        // The lock file is still there, but nobody holds it: a crashed holder never blocks --resume.
        Assert.True(File.Exists(Path.Combine(runDir, RunLock.FileName)));
        var resumed = Run(runDir, "--resume");
        Assert.True(resumed.Exit == 0, resumed.Err + resumed.Out);
    }

    [Fact]
    public void TheOsLockItselfIsWhatCounts()
    {
        string runDir = _fx.NewRunDir();
        Assert.Equal(0, Run(runDir).Exit);
        File.Delete(Path.Combine(runDir, RunLock.OwnerFileName));
        using (new FileStream(Path.Combine(runDir, RunLock.FileName), FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var (exit, _, err) = Run(runDir, "--resume");
            Assert.Equal(2, exit);
            Assert.Contains("in use by another distill process (owner unknown)", err);
        }
    }

    [Fact]
    public void TwoFreshRunsOnOneFolderGetItOnce()
    {
        string runDir = _fx.NewRunDir();
        Directory.CreateDirectory(runDir); // an empty folder is a valid fresh run folder
        using var first = RunLock.CreateFresh(runDir);
        var e = Assert.Throws<RunDirectoryException>(() => RunLock.CreateFresh(runDir));
        Assert.Contains("not empty", e.Message);
        Assert.Single(Directory.GetDirectories(Path.GetDirectoryName(runDir)!)); // no temp folder left beside it
    }

    [Fact]
    public void HalfWrittenCheckpointFoldersOfADeadProcessAreRemovedOnTheNextStart()
    {
        string runDir = _fx.NewRunDir();
        Assert.Equal(0, Run(runDir).Exit);
        // What kill -9 during a checkpoint write leaves: a temp folder named after the dead process.
        string stale = Path.Combine(runDir, "checkpoints", "baseline", "last.tmp-4194999");
        Directory.CreateDirectory(stale);
        File.WriteAllBytes(Path.Combine(stale, "model.safetensors"), [1, 2, 3]);
        string staleModel = Path.Combine(runDir, "models", "baseline.tmp-4194998");
        Directory.CreateDirectory(staleModel);

        var (exit, output, err) = Run(runDir, "--resume");
        Assert.True(exit == 0, err + output);
        Assert.False(Directory.Exists(stale));
        Assert.False(Directory.Exists(staleModel));
        Assert.Contains("last.tmp-4194999", output);
        Assert.True(Directory.Exists(Path.Combine(runDir, "checkpoints", "baseline", "last")));
    }

    [Fact]
    public void AnOutThatCannotBeCreatedIsInvalidInput()
    {
        string file = _fx.File("not-a-folder");
        File.WriteAllText(file, "x");
        string runDir = Path.Combine(file, "run");
        var (exit, _, err) = Run(runDir);
        Assert.Equal(2, exit);
        Assert.Contains($"cannot create the run folder {runDir}", err);
        Assert.Contains("--out", err);

        var onFile = Run(file);
        Assert.Equal(2, onFile.Exit);
        Assert.Contains("is a file", onFile.Err);
    }

    [Fact]
    public void AFreshRunThatFailsBeforeItsFirstCheckpointLeavesNoFolder()
    {
        string runDir = _fx.NewRunDir();
        // 512 examples per batch from 256: the trainer refuses at its start, after the run folder was created.
        var (exit, output, err) = Run(runDir, "--set", "train.batch_size=512");
        Assert.True(exit == 1, err + output);
        Assert.Contains("batch_size 512 is larger than the 256 training examples", err);
        Assert.False(Directory.Exists(runDir));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(runDir)!));

        var again = Run(runDir);
        Assert.True(again.Exit == 0, again.Err + again.Out);
    }
}
