using System.Globalization;
using Distill.Runs;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>The end-of-run table: the same numbers as summary.json.</summary>
public static class SummaryTable
{
    public static void Print(RunSummary summary, string runDir)
    {
        var table = new Table().Title($"[bold]{Markup.Escape(runDir)}[/]");
        foreach (var h in new[] { "stage", "kind", "accuracy", "macro-F1", "eval loss", "params", "size", "steps", "time" })
            table.AddColumn(new TableColumn(h).RightAligned());
        foreach (var s in summary.Stages)
        {
            table.AddRow(
                Markup.Escape(s.Name), Markup.Escape(s.Kind),
                Fmt(s.Metrics, "accuracy", "0.0000"), Fmt(s.Metrics, "macro_f1", "0.0000"), Fmt(s.Metrics, "loss", "0.0000"),
                s.Params.ToString("N0", CultureInfo.InvariantCulture), Bytes(s.ModelBytes),
                s.Steps.ToString(CultureInfo.InvariantCulture), $"{s.WallSeconds:0.0} s");
        }
        AnsiConsole.Write(table);
        foreach (var s in summary.Stages.Where(s => s.Extra.TryGetValue("warning", out var w) && w is not null))
            AnsiConsole.MarkupLine($"[yellow]warning[/] [[{Markup.Escape(s.Name)}]]: {Markup.Escape(s.Extra["warning"].ToString() ?? "")}");
        AnsiConsole.MarkupLine($"summary: [blue]{Markup.Escape(Path.Combine(runDir, RunSummary.FileName))}[/]");
    }

    private static string Fmt(IReadOnlyDictionary<string, double> m, string key, string format) =>
        m.TryGetValue(key, out var v) && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    public static string Bytes(long b) => b switch
    {
        >= 1 << 20 => $"{b / (double)(1 << 20):0.00} MiB",
        >= 1 << 10 => $"{b / 1024.0:0.0} KiB",
        _ => $"{b} B",
    };
}
