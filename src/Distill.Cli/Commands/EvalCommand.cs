using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distill.Stages;
using Distill.Data;
using Distill.Recipes;
using Distill.Runs;
using Distill.Training;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace Distill.Cli.Commands;

/// <summary><c>distill eval</c>: a trained model on a recipe's data, with per-class metrics and the confusion matrix.</summary>
public sealed class EvalCommand : Command<EvalCommand.Settings>
{
    public const string Summary = "evaluate a trained model on a recipe's data: accuracy, macro-F1, per-class precision/recall, confusion matrix";

    public const string Details = """
        <model> is a run's model folder (<run>/models/<stage>), a HuggingFace folder with its classification head, or
        a compressed artifact (model.dcmp). The recipe supplies the data section and its pre-processing (tokenizer,
        image size, sampling rate, labels); its model sections are not used. Evaluates the recipe's evaluation
        splits, or the --split ones, each after data.eval_limit and in batches of data.eval_batch_size, exactly as a
        run evaluates, so on the same split it reports the accuracy the run recorded. Prints, per split, accuracy,
        macro-F1, the per-class table and the confusion matrix (rows: true class, columns: predicted); --out writes
        them as JSON: the first split's accuracy, macro_f1, loss, per_class and confusion_matrix at the top level,
        every split under "splits". On transcript data (audio_transcripts, fsdd_words; a CTC model) it reports instead
        wer, cer, exact_match and loss (CTC per clip) with the edit totals and the wrong transcriptions ("errors"), the
        first split's at the top level. Bad input (model, recipe, data) is exit 2 before anything is written.
        """;

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<model>")]
        [Description("a run's models/<stage> folder, an HF folder or a model.dcmp artifact")]
        public string Model { get; init; } = "";

        [CommandOption("--recipe <RECIPE>")]
        [Description("the recipe whose data section (splits, pre-processing, labels) to evaluate on; required")]
        public string? Recipe { get; init; }

        [CommandOption("--split <SPLIT>")]
        [Description("a split to evaluate (repeatable); default: the recipe's eval_splits / eval_split")]
        public string[]? Split { get; init; }

        [CommandOption("--set <KEY=VALUE>")]
        [Description("override a recipe value (repeatable), e.g. --set data.eval_limit=null")]
        public string[]? Set { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("write the metrics as JSON to this file, and each split's confusion matrix as a PNG beside it (<name>.confusion-<split>.png)")]
        public string? Out { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string recipePath = settings.Recipe ?? throw new UsageException("--recipe <recipe.yaml> is required (it supplies the data and its pre-processing).");
        string? outPath = settings.Out is null ? null : OutputFile.Check(settings.Out, "--out");
        var loaded = RecipeLoader.Load(recipePath, settings.Set ?? []);
        if (!loaded.Succeeded) return RecipeErrors.Report(loaded.Errors, Console.Error);
        var recipe = loaded.Recipe!;
        IReadOnlyList<string> splits = settings.Split is { Length: > 0 } given ? given : ((IDataSettings)recipe.Data).EvalSplitNames;

        var (model, modelKind) = SavedModel.Load(settings.Model);
        using var _ = model;
        var data = RunInputs.OpenEvalSplits(recipe, splits);
        var classes = data[0].Data.ClassNames;
        SavedModelInputs.Check(model, settings.Model, recipe, classes.Count);

        var device = torch.device(recipe.Train.Device);
        var onDevice = model.to(device);
        if (data[0].Data.Vocabulary is not null) return Transcriptions(settings, recipe, recipePath, outPath, onDevice, modelKind, data, device);
        List<ClassificationReport> reports;
        try
        {
            reports = [.. data.Select(d =>
            {
                var (metrics, loss) = Evaluator.Confusion(onDevice, d.Data, recipe.Data.EvalBatchSize, device, recipe.Data.Prefetch);
                return new ClassificationReport(d.Split, classes, metrics, loss);
            })];
        }
        catch (Exception e) when (e is not InvalidInputException && Environment.GetEnvironmentVariable("DISTILL_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: the evaluation failed: {ErrorText.Of(e)}\n(set DISTILL_DEBUG=1 for the stack trace)");
            return ExitCodes.Failure;
        }

        var console = OpenConsole();
        console.MarkupLine($"[bold]{Markup.Escape(settings.Model)}[/] ({modelKind}, {model.Family}) on {Markup.Escape(recipe.Data.Dataset)} data from {Markup.Escape(recipe.Data.Path)}");
        foreach (var report in reports) Print(console, report);

        if (outPath is not null)
        {
            var json = OutJson(reports.Select(r => (r.Split, r.ToJson())).ToList(), settings.Model, modelKind, recipePath);
            foreach (var report in reports)
            {
                string png = ConfusionPngPath(outPath, report.Split);
                OutputFile.WriteAtomically(png, ConfusionMatrixPlot.Png(
                    $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(settings.Model))} on {report.Split}: accuracy {report.Accuracy.ToString("0.0000", CultureInfo.InvariantCulture)}",
                    report.ClassNames, report.Metrics));
                console.MarkupLine($"confusion matrix ({Markup.Escape(report.Split)}): [blue]{Markup.Escape(png)}[/]");
            }
            OutputFile.WriteAtomically(outPath, w => w.Write(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
            console.MarkupLine($"metrics: [blue]{Markup.Escape(outPath)}[/]");
        }
        return ExitCodes.Success;
    }

    /// <summary>The console the tables go to; 160 columns when stdout is redirected (logs, pipes).</summary>
    private static IAnsiConsole OpenConsole()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected) console.Profile.Width = 160;
        return console;
    }

    /// <summary>The --out document: the first split's metrics at the top level, what was evaluated, and every split's under <c>splits</c>.</summary>
    private static JsonObject OutJson(IReadOnlyList<(string Split, JsonObject Json)> splits, string model, string modelKind, string recipePath)
    {
        var json = (JsonObject)splits[0].Json.DeepClone();
        json["model"] = Path.GetFullPath(model);
        json["model_kind"] = modelKind;
        json["recipe"] = recipePath;
        var all = new JsonObject();
        foreach (var (split, splitJson) in splits) all[split] = splitJson;
        json["splits"] = all;
        return json;
    }

    /// <summary>Where a split's confusion-matrix PNG goes: beside <c>--out</c>, <c>metrics.json</c> → <c>metrics.confusion-test.png</c>.</summary>
    public static string ConfusionPngPath(string outPath, string split)
    {
        string stem = Path.Combine(Path.GetDirectoryName(outPath)!, Path.GetFileNameWithoutExtension(outPath));
        string safe = string.Concat(split.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
        return $"{stem}.confusion-{safe}.png";
    }

    /// <summary>Transcript data (CTC): WER, CER, exact matches and CTC loss per split; the first split's at the top level of --out.</summary>
    private static int Transcriptions(Settings settings, Recipe recipe, string recipePath, string? outPath, Distill.Models.DistillModel model,
        string modelKind, IReadOnlyList<(string Split, IDataset Data)> data, torch.Device device)
    {
        List<TranscriptionReport> reports;
        try
        {
            reports = [.. data.Select(d =>
            {
                var (scores, loss, hypotheses) = Evaluator.Transcribe(model, d.Data, recipe.Data.EvalBatchSize, device, recipe.Data.Prefetch);
                return new TranscriptionReport(d.Split, scores, loss, [.. hypotheses.Select((h, i) => (d.Data.Transcript(i), h))]);
            })];
        }
        catch (Exception e) when (e is not InvalidInputException && Environment.GetEnvironmentVariable("DISTILL_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: the evaluation failed: {ErrorText.Of(e)}\n(set DISTILL_DEBUG=1 for the stack trace)");
            return ExitCodes.Failure;
        }
        var console = OpenConsole();
        console.MarkupLine($"[bold]{Markup.Escape(settings.Model)}[/] ({modelKind}, {model.Family}, CTC) on {Markup.Escape(recipe.Data.Dataset)} data from {Markup.Escape(recipe.Data.Path)}");
        string F(double v) => double.IsFinite(v) ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-";
        foreach (var r in reports)
        {
            console.MarkupLine($"\n[bold]{Markup.Escape(r.Split)}[/]: {r.Metrics.Clips} clips, WER [bold]{F(r.Metrics.Wer)}[/] ({r.Metrics.WordEdits}/{r.Metrics.ReferenceWords} words), " +
                               $"CER {F(r.Metrics.Cer)} ({r.Metrics.CharEdits}/{r.Metrics.ReferenceChars} characters), exact {F(r.Metrics.ExactMatch)}, loss {F(r.Loss)}");
            var errors = new Table().Title("first wrong transcriptions");
            foreach (var h in new[] { "clip", "reference", "hypothesis" }) errors.AddColumn(h);
            foreach (var (index, reference, hypothesis) in r.Errors.Take(10))
                errors.AddRow(index.ToString(CultureInfo.InvariantCulture), Markup.Escape(reference), Markup.Escape(hypothesis));
            if (errors.Rows.Count > 0) console.Write(errors);
        }
        if (outPath is not null)
        {
            var json = OutJson(reports.Select(r => (r.Split, r.ToJson())).ToList(), settings.Model, modelKind, recipePath);
            OutputFile.WriteAtomically(outPath, w => w.Write(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
            console.MarkupLine($"metrics: [blue]{Markup.Escape(outPath)}[/]");
        }
        return ExitCodes.Success;
    }

    private static void Print(IAnsiConsole console, ClassificationReport report)
    {
        string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
        console.MarkupLine($"\n[bold]{Markup.Escape(report.Split)}[/]: {report.Metrics.Count} examples, accuracy [bold]{F(report.Accuracy)}[/], macro-F1 {F(report.MacroF1)}, loss {F(report.Loss)}");
        var perClass = new Table().Title("per class");
        foreach (var h in new[] { "class", "precision", "recall", "F1", "support" }) perClass.AddColumn(new TableColumn(h).RightAligned());
        for (int c = 0; c < report.ClassNames.Count; c++)
            perClass.AddRow(Markup.Escape(report.ClassNames[c]), F(report.Metrics.Precision(c)), F(report.Metrics.Recall(c)), F(report.Metrics.F1(c)),
                report.Metrics.Support(c).ToString(CultureInfo.InvariantCulture));
        console.Write(perClass);
        var confusion = new Table().Title("confusion matrix (rows: true, columns: predicted)");
        confusion.AddColumn("true \\ predicted");
        foreach (var name in report.ClassNames) confusion.AddColumn(new TableColumn(Markup.Escape(name)).RightAligned());
        for (int c = 0; c < report.ClassNames.Count; c++)
            confusion.AddRow([Markup.Escape(report.ClassNames[c]), .. Enumerable.Range(0, report.ClassNames.Count)
                .Select(p => report.Metrics.Confusion(c, p).ToString(CultureInfo.InvariantCulture))]);
        console.Write(confusion);
    }
}
