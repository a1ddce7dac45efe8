namespace Distill.Cli;

/// <summary>One <c>distill</c> sub-command.</summary>
public interface ICommand
{
    string Name { get; }

    /// <summary>One line for <c>distill --help</c>.</summary>
    string Summary { get; }

    /// <summary>Full help: usage, every option, examples.</summary>
    string Help { get; }

    /// <summary>Runs the command; returns the exit code (see <see cref="ExitCodes"/>).</summary>
    int Execute(IReadOnlyList<string> args);
}
