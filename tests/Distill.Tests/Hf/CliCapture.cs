using Distill.Tests.Cli;

namespace Distill.Tests.Hf;

/// <summary>Runs one <c>distill</c> command in-process through the CLI's entry point (parsing included), output captured.</summary>
internal static class CliCapture
{
    public static (int Code, string Out, string Err) Run(string command, params string[] args) => CliRunner.Run([command, .. args]);
}
