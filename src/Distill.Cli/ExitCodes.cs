namespace Distill.Cli;

/// <summary>The CLI's exit codes: a contract for scripts.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Something failed while running (a NaN loss, an I/O error...).</summary>
    public const int Failure = 1;

    /// <summary>Invalid input: recipe, checkpoint, data, CLI flag. Nothing was written.</summary>
    public const int InvalidInput = 2;
}
