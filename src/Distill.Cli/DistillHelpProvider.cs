using Distill.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Cli.Help;
using Spectre.Console.Rendering;

namespace Distill.Cli;

/// <summary>
/// Spectre's generated help (usage, arguments, options, examples) plus, as the footer, what the option table cannot
/// say: the command's details (what it reads and writes) and the exit codes, a contract for scripts.
/// </summary>
public sealed class DistillHelpProvider(ICommandAppSettings settings) : HelpProvider(settings)
{
    private const string ExitCodesLine =
        "Exit codes: 0 success, 1 failure during a run (the last good checkpoint is kept), 2 invalid input (recipe, checkpoint, data, flags; nothing is written).";

    private static readonly Dictionary<string, Func<string>> Details = new(StringComparer.Ordinal)
    {
        ["run"] = () => RunCommand.Details,
        ["validate"] = () => ValidateCommand.Details,
        ["eval"] = () => EvalCommand.Details,
        ["predict"] = () => PredictCommand.Details,
        ["forward"] = () => ForwardCommand.Details,
        ["export"] = () => ExportCommand.Details,
        ["onnx"] = () => ImportOnnxCommand.Details,
        ["profile"] = () => ProfileCommand.Details,
        ["bench"] = () => BenchCommand.Details,
        ["build"] = () => CacheBuildCommand.Details,
        ["merge"] = () => CacheMergeCommand.Details,
    };

    public override IEnumerable<IRenderable> GetFooter(ICommandModel model, ICommandInfo? command)
    {
        var text = command is not null && Details.TryGetValue(command.Name, out var details)
            ? Reflow(details()) + "\n\n" + ExitCodesLine
            : ExitCodesLine + "\n\nRun 'distill <command> --help' for a command's options.";
        return [new Spectre.Console.Text("\n" + text + "\n")];
    }

    /// <summary>
    /// Joins the lines of each prose paragraph so the console wraps them to its width; indented lines (lists, tables),
    /// lines after an indented one or a colon, and blank-line breaks stay as written.
    /// </summary>
    private static string Reflow(string text)
    {
        var lines = text.Trim().Split('\n');
        var output = new System.Text.StringBuilder(lines[0]);
        for (int i = 1; i < lines.Length; i++)
        {
            string previous = lines[i - 1], line = lines[i];
            bool join = line.Length > 0 && !char.IsWhiteSpace(line[0]) && previous.Length > 0 && !char.IsWhiteSpace(previous[0]) && !previous.EndsWith(':');
            output.Append(join ? ' ' : '\n').Append(line);
        }
        return output.ToString();
    }
}
