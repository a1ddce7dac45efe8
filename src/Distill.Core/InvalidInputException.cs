namespace Distill;

/// <summary>
/// Input that cannot be used — a data file, weights, a checkpoint, a run folder — with a message naming the file, what
/// is wrong with it and the fix. The CLI maps it to exit code 2 (invalid input, nothing written) in one place; a run
/// that finds a bad file after it started writing reports a failure instead (exit 1, see <c>RunExecutor</c>).
/// </summary>
public class InvalidInputException(string path, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The file or folder at fault.</summary>
    public string Path { get; } = path;

    /// <summary>One exception for several problems (all are reported at once, like recipe errors); the first one's path.</summary>
    public static InvalidInputException Combine(IReadOnlyList<InvalidInputException> problems)
    {
        if (problems.Count == 0) throw new ArgumentException("no problems to combine", nameof(problems));
        if (problems.Count == 1) return problems[0];
        return new InvalidInputException(problems[0].Path,
            $"{problems.Count} problems with the run's input:\n  " + string.Join("\n  ", problems.Select(p => p.Message)));
    }
}
