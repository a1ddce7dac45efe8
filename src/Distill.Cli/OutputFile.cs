namespace Distill.Cli;

/// <summary>Files a command writes: checked before the work starts, written to a temporary sibling and renamed into place, so a failed command leaves nothing half-written.</summary>
internal static class OutputFile
{
    /// <summary>The full path of <paramref name="path"/>; an <see cref="InvalidInputException"/> (exit 2) when its folder does not exist or it is a folder.</summary>
    public static string Check(string path, string option)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new InvalidInputException(full, $"{option} {full}: is a folder; give a file name.");
        string? folder = Path.GetDirectoryName(full);
        if (folder is null || !Directory.Exists(folder))
            throw new InvalidInputException(full, $"{option} {full}: the folder {folder} does not exist; create it first.");
        return full;
    }

    /// <summary>Writes <paramref name="bytes"/> to <c>&lt;path&gt;.tmp-&lt;pid&gt;</c>, then renames it over <paramref name="path"/>.</summary>
    public static void WriteAtomically(string path, byte[] bytes)
    {
        string tmp = $"{path}.tmp-{Environment.ProcessId}";
        try
        {
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>Writes through <paramref name="write"/> to <c>&lt;path&gt;.tmp-&lt;pid&gt;</c>, then renames it over <paramref name="path"/>.</summary>
    public static void WriteAtomically(string path, Action<TextWriter> write)
    {
        string tmp = $"{path}.tmp-{Environment.ProcessId}";
        try
        {
            using (var writer = new StreamWriter(tmp, false, new System.Text.UTF8Encoding(false))) write(writer);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
