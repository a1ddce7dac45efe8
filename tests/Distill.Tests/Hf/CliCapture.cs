namespace Distill.Tests.Hf;

/// <summary>Runs a CLI command in-process with stdout and stderr captured (only in the non-parallel collection).</summary>
internal static class CliCapture
{
    public static (int Code, string Out, string Err) Run(Distill.Cli.ICommand command, params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try { return (command.Execute(args), o.ToString(), e.ToString()); }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
