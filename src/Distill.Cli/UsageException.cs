namespace Distill.Cli;

/// <summary>A command line that cannot be understood; printed with the command's help, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
