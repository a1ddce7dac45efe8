namespace Distill.Tests.Cli;

/// <summary>Runs CLI commands in-process with stdout/stderr captured. Console redirection is process-wide, so tests
/// using it run in the non-parallel <see cref="SerialCollection"/>.</summary>
internal static class CliRunner
{
    private static readonly Lock Gate = new();

    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        lock (Gate)
        {
            var (oldOut, oldErr) = (Console.Out, Console.Error);
            var (o, e) = (new StringWriter(), new StringWriter());
            Console.SetOut(o);
            Console.SetError(e);
            try
            {
                var main = typeof(Distill.Cli.ExitCodes).Assembly.EntryPoint!;
                int exit = (int)main.Invoke(null, [args])!;
                return (exit, o.ToString(), e.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }
}
