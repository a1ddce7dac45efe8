using System.Globalization;
using Distill.Compression;
using Distill.Runs;
using Spectre.Console;

namespace Distill.Cli;

/// <summary>The end-of-run table: the same numbers as summary.json.</summary>
public static class SummaryTable
{
    public static void Print(RunSummary summary, string runDir)
    {
        var table = new Table().Title($"[bold]{Markup.Escape(runDir)}[/]");
        // Transcription (CTC) runs report WER (the primary metric, lower is better), CER and exact matches instead of accuracy / macro-F1.
        bool ctc = summary.Stages.Any(s => s.Metrics.ContainsKey("wer"));
        string[] metricHeaders = ctc ? ["WER", "CER", "exact"] : ["accuracy", "macro-F1"];
        string[] headers = ["stage", "kind", .. metricHeaders, "eval loss", "params", "size", "steps", "time"];
        foreach (var h in headers)
            table.AddColumn(new TableColumn(h).RightAligned());
        foreach (var s in summary.Stages)
        {
            string[] metrics = ctc
                ? [Fmt(s.Metrics, "wer", "0.0000"), Fmt(s.Metrics, "cer", "0.0000"), Fmt(s.Metrics, "exact_match", "0.0000")]
                : [Fmt(s.Metrics, "accuracy", "0.0000"), Fmt(s.Metrics, "macro_f1", "0.0000")];
            string[] row =
            [
                Markup.Escape(s.Name), Markup.Escape(s.Kind),
                .. metrics, Fmt(s.Metrics, "loss", "0.0000"),
                s.Params.ToString("N0", CultureInfo.InvariantCulture), Bytes(s.ModelBytes),
                s.Steps.ToString(CultureInfo.InvariantCulture), $"{s.WallSeconds:0.0} s",
            ];
            table.AddRow(row);
        }
        AnsiConsole.Write(table);
        PrintSplits(summary);
        PrintCompression(summary);
        PrintWeightless(summary);
        foreach (var s in summary.Stages.Where(s => s.Warning is not null))
            AnsiConsole.MarkupLine($"[yellow]warning[/] [[{Markup.Escape(s.Name)}]]: {Markup.Escape(s.Warning!)}");
        AnsiConsole.MarkupLine($"summary: [blue]{Markup.Escape(Path.Combine(runDir, RunSummary.FileName))}[/]");
    }

    /// <summary>Accuracy and macro-F1 of every evaluation split, when the recipe evaluates more than one.</summary>
    private static void PrintSplits(RunSummary summary)
    {
        var splits = summary.Stages.Select(s => s.MetricsBySplit).OfType<IReadOnlyList<Distill.Training.SplitMetrics>>()
            .SelectMany(b => b.Select(m => m.Split)).Distinct().ToList();
        if (splits.Count < 2) return;
        bool ctc = summary.Stages.Any(s => s.Metrics.ContainsKey("wer"));
        var (first, second, names) = ctc ? ("wer", "cer", "WER / CER") : ("accuracy", "macro_f1", "accuracy / macro-F1");
        var table = new Table().Title($"[bold]evaluation splits[/] ({names}; metrics above are the first split's)");
        table.AddColumn("stage");
        foreach (var split in splits) table.AddColumn(new TableColumn(Markup.Escape(split)).RightAligned());
        foreach (var s in summary.Stages.Where(s => s.MetricsBySplit is not null))
            table.AddRow([Markup.Escape(s.Name), .. splits.Select(split => s.MetricsBySplit!.FirstOrDefault(m => m.Split == split) is { } m
                ? $"{Fmt(m.Metrics, first, "0.0000")} / {Fmt(m.Metrics, second, "0.0000")}" : "-")]);
        AnsiConsole.Write(table);
    }

    /// <summary>The compression view (<see cref="CompressionTable"/>), when the run has prune, quantize or export stages.</summary>
    private static void PrintCompression(RunSummary summary)
    {
        var rows = CompressionTable.Rows(summary);
        if (rows.Count == 0) return;
        var table = new Table().Title("[bold]compression[/] (bytes: on disk for export, else estimated by the encoder)");
        string metric = summary.Stages.Any(s => s.Metrics.ContainsKey("wer")) ? "WER" : "accuracy";
        foreach (var h in new[] { "stage", "params", "non-zeros", "bits/weight", "bytes", "vs fp32 student", "vs fp32 teacher", metric, "latency/batch" })
            table.AddColumn(new TableColumn(h).RightAligned());
        foreach (var r in rows)
            table.AddRow(
                Markup.Escape(r.Stage), r.Params.ToString("N0", CultureInfo.InvariantCulture),
                r.NonZeros?.ToString("N0", CultureInfo.InvariantCulture) ?? "-", Opt(r.BitsPerWeight, "0.00"),
                r.Bytes.ToString("N0", CultureInfo.InvariantCulture) + (r.OnDisk ? " on disk" : ""),
                r.RatioVsStudent is { } s ? $"{s:0.00}x" : "-", r.RatioVsTeacher is { } t ? $"{t:0.0}x" : "-",
                Opt(r.Accuracy, "0.0000"), r.LatencyMs is { } ms ? $"{ms:0.0} ms" : "-");
        AnsiConsole.Write(table);
    }

    /// <summary>The weights weightless stages stored as Bloomier filters, one row per weight.</summary>
    private static void PrintWeightless(RunSummary summary)
    {
        var stages = summary.Stages.OfType<Distill.Stages.Results.WeightlessResult>().ToList();
        if (stages.Count == 0) return;
        var table = new Table().Title("[bold]weightless[/] (Bloomier tables; bytes without name and shape; decode time measured once, this machine)");
        foreach (var h in new[] { "stage", "weight", "shape", "non-zeros", "t", "codes", "cells", "false positives", "rate (expected)", "bytes", "vs fp32", "decode" })
            table.AddColumn(new TableColumn(h).RightAligned());
        foreach (var s in stages)
            foreach (var (name, l) in s.Layers)
                table.AddRow(
                    Markup.Escape(s.Name), Markup.Escape(name), string.Join("x", l.Shape), l.Nonzeros.ToString("N0", CultureInfo.InvariantCulture),
                    l.Bits.ToString(CultureInfo.InvariantCulture), l.Codes.ToString(CultureInfo.InvariantCulture), l.Cells.ToString("N0", CultureInfo.InvariantCulture),
                    l.FalsePositives.ToString("N0", CultureInfo.InvariantCulture),
                    $"{l.FalsePositiveRate.ToString("P2", CultureInfo.InvariantCulture)} ({l.ExpectedFalsePositiveRate.ToString("P2", CultureInfo.InvariantCulture)})",
                    l.Bytes.ToString("N0", CultureInfo.InvariantCulture), $"{l.CompressionRatio:0.0}x", $"{l.DecodeMs:0.0} ms");
        AnsiConsole.Write(table);
    }

    private static string Opt(double? v, string format) => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Fmt(IReadOnlyDictionary<string, double> m, string key, string format) =>
        m.TryGetValue(key, out var v) && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    public static string Bytes(long b) => b switch
    {
        >= 1 << 20 => $"{b / (double)(1 << 20):0.00} MiB",
        >= 1 << 10 => $"{b / 1024.0:0.0} KiB",
        _ => $"{b} B",
    };
}
