using System.Text.RegularExpressions;

namespace Distill.Runs;

/// <summary>
/// One process per run folder. The lock is an exclusive OS lock on <c>&lt;run&gt;/.lock</c> (a <see cref="FileStream"/>
/// opened with <see cref="FileShare.None"/>, which .NET implements with <c>flock(LOCK_EX)</c> on Unix), held while the
/// run executes and released by the kernel when the process exits or dies — so a crashed run never leaves a lock that
/// blocks <c>--resume</c>; the <c>.lock</c> file itself stays (deleting it would let two processes lock two different
/// files of that name). The holder writes its pid into <c>.lock</c> (for <c>cat</c>) and into <c>.lock.owner</c>: .NET
/// opens every file with an flock, so another .NET process cannot read a locked file.
/// <para>A fresh run folder is created atomically: a sibling temp folder is made and locked, then renamed into place.
/// The rename fails when the folder exists (an existing empty folder is removed first with a non-recursive delete,
/// which fails if anything appeared in it), so of two processes starting the same fresh run exactly one gets it.</para>
/// </summary>
public sealed partial class RunLock : IDisposable
{
    public const string FileName = ".lock";

    public const string OwnerFileName = ".lock.owner";

    // errno EWOULDBLOCK on Linux (11) and macOS (35); ERROR_SHARING_VIOLATION on Windows.
    private static readonly int[] LockedResults = [11, 35, unchecked((int)0x80070020)];

    private FileStream? _stream;

    private RunLock(string runDir, FileStream stream)
    {
        RunDir = runDir;
        _stream = stream;
    }

    /// <summary>The locked run folder (absolute).</summary>
    public string RunDir { get; private set; }

    /// <summary>Locks an existing run folder (<c>--resume</c>); a folder another process holds is a <see cref="RunDirectoryException"/> naming it.</summary>
    public static RunLock Acquire(string runDir)
    {
        string full = Path.GetFullPath(runDir);
        if (File.Exists(full)) throw new RunDirectoryException(full, $"{full} is a file, not a run folder; give the run's folder with --out.");
        if (!Directory.Exists(full))
            throw new RunDirectoryException(full, $"--resume: run folder {full} does not exist; start the run without --resume.");
        var stream = Open(Path.Combine(full, FileName), FileMode.OpenOrCreate, full);
        var runLock = new RunLock(full, stream);
        try { runLock.WriteOwner(); }
        catch { runLock.Dispose(); throw; }
        return runLock;
    }

    /// <summary>Creates <paramref name="runDir"/> (absent or empty) atomically and locked; anything else is a <see cref="RunDirectoryException"/>.</summary>
    public static RunLock CreateFresh(string runDir)
    {
        string full = Path.GetFullPath(runDir);
        if (File.Exists(full)) throw new RunDirectoryException(full, $"{full} is a file; give a folder for the run with --out <dir>.");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any()) throw NotEmpty(full);
        string parent = Path.GetDirectoryName(full) ?? throw new RunDirectoryException(full, $"{full} cannot be a run folder (it is a root); give a folder below it with --out <dir>.");
        string tmp = Path.Combine(parent, $".{Path.GetFileName(full)}.creating-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(parent);
            Directory.CreateDirectory(tmp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RunDirectoryException(full, $"cannot create the run folder {full}: {e.Message} Choose a writable location with --out <dir>.");
        }
        RunLock? runLock = null;
        try
        {
            runLock = new RunLock(tmp, Open(Path.Combine(tmp, FileName), FileMode.CreateNew, full));
            runLock.WriteOwner();
            if (Directory.Exists(full))
            {
                try { Directory.Delete(full); } // only if still empty: the check above is not atomic, this is
                catch (DirectoryNotFoundException) { }
                catch (IOException) { throw NotEmpty(full); }
            }
            try { Directory.Move(tmp, full); }
            catch (IOException) when (Directory.Exists(full))
            {
                throw new RunDirectoryException(full,
                    $"Run folder {full} was created by another process at the same moment; use --out <dir> for a new run, or --resume once that run has stopped.");
            }
            runLock.RunDir = full;
            return runLock;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            runLock?.Dispose();
            TryDelete(tmp);
            throw new RunDirectoryException(full, $"cannot create the run folder {full}: {e.Message} Choose a writable location with --out <dir>.");
        }
        catch
        {
            runLock?.Dispose();
            TryDelete(tmp);
            throw;
        }
    }

    private static RunDirectoryException NotEmpty(string full) => new(full,
        $"Run folder {full} is not empty. Use --resume to continue that run (a run stopped before its first checkpoint resumes from its start), or --out <dir> for a new one.");

    private static FileStream Open(string path, FileMode mode, string runDir)
    {
        try
        {
            return new FileStream(path, mode, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (LockedResults.Contains(e.HResult))
        {
            throw new RunDirectoryException(runDir,
                $"Run folder {runDir} is in use by another distill process ({Owner(runDir)}): one process per run folder. " +
                "Wait for it to finish, or stop it; the OS releases its lock the moment it exits, and --resume continues from its last checkpoint.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RunDirectoryException(runDir,
                $"cannot lock the run folder {runDir} ({e.Message}): the folder must be writable. Fix its permissions, or copy the run to a writable place and --resume there.");
        }
    }

    private static string Owner(string runDir)
    {
        try
        {
            string text = File.ReadAllText(Path.Combine(runDir, OwnerFileName)).Trim();
            return text.Length > 0 ? text : "owner unknown";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "owner unknown";
        }
    }

    private void WriteOwner()
    {
        string owner = $"pid {Environment.ProcessId}, started {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} on {Environment.MachineName}";
        var stream = _stream!;
        stream.SetLength(0);
        stream.Write(System.Text.Encoding.UTF8.GetBytes($"{Environment.ProcessId}\n"));
        stream.Flush();
        string path = Path.Combine(RunDir, OwnerFileName), tmp = path + ".tmp";
        File.WriteAllText(tmp, owner + "\n");
        File.Move(tmp, path, overwrite: true);
    }

    [GeneratedRegex(@"\.tmp-[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex TempFolderName();

    /// <summary>
    /// Removes what a process that died while writing left in the run folder: <c>*.tmp-&lt;pid&gt;</c> folders of
    /// checkpoint writes and <c>*.old</c> folders beside a complete checkpoint. Under the lock every such folder is
    /// stale, whoever's pid it carries. Returns the folders removed (also written to <paramref name="log"/>).
    /// </summary>
    public IReadOnlyList<string> RemoveStaleTemporaries(TextWriter log)
    {
        var stale = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories(RunDir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (stale.Any(s => dir.StartsWith(s + Path.DirectorySeparatorChar, StringComparison.Ordinal))) continue;
            string name = Path.GetFileName(dir);
            bool tmp = TempFolderName().IsMatch(name);
            bool old = name.EndsWith(".old", StringComparison.Ordinal)
                       && File.Exists(Path.Combine(dir[..^".old".Length], Checkpoints.CheckpointIO.StateFile));
            if (tmp || old) stale.Add(dir);
        }
        foreach (var dir in stale)
        {
            Directory.Delete(dir, recursive: true);
            log.WriteLine($"[run] removed {Path.GetRelativePath(RunDir, dir)}: left half-written by a process that stopped while writing it");
        }
        return stale;
    }

    /// <summary>Removes the whole run folder (a fresh run that failed before it had anything worth keeping) and releases the lock.</summary>
    public void DeleteRunFolder()
    {
        // Renamed away first, so that the folder vanishes at once rather than file by file.
        string gone = Path.Combine(Path.GetDirectoryName(RunDir)!, $".{Path.GetFileName(RunDir)}.failed-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try { Directory.Move(RunDir, gone); }
        catch (IOException) { gone = RunDir; }
        Dispose();
        Directory.Delete(gone, recursive: true);
    }

    private static void TryDelete(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }
}
