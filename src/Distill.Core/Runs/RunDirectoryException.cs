namespace Distill.Runs;

/// <summary>The run folder cannot be used as asked (it holds another run, another process holds it, it cannot be
/// created, or there is nothing to resume). An input error: exit code 2.</summary>
public sealed class RunDirectoryException(string runDir, string message) : InvalidInputException(runDir, message);
