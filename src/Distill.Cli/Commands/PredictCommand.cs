using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Distill.Data;
using Distill.Recipes;
using Distill.Runs;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Cli.Commands;

/// <summary><c>distill predict</c>: class probabilities for new inputs, one JSON line per example.</summary>
public sealed class PredictCommand : Command<PredictCommand.Settings>
{
    public const string Summary = "predict the class of new inputs (texts, images, WAV files) with a trained model; writes JSON Lines";

    public const string Details = """
        <model> is a run's model folder (<run>/models/<stage>), a HuggingFace folder with its classification head, or
        a compressed artifact (model.dcmp). The recipe's data section says how to read and pre-process the inputs and
        names the classes (data.labels, or those of its training split):
          text_classification: --input is a CSV/TSV/JSON Lines file (its text_column, and text_pair_column if the
                               recipe has one) or any other file as plain text, one example per non-empty line;
          sst2:                the same (the column is text_column, else "sentence"), cleaned up and tokenized as
                               SST-2's sentences are;
          image_folder:        an image file or a folder of images (searched recursively);
          mnist, cifar10:      the same, decoded as grey (mnist) or RGB (cifar10), resized to 28x28 / 32x32 (Pillow
                               bilinear) when they have another size, then normalised as the preset's examples are;
          audio_folder, fsdd:  a WAV file or a folder of WAV files (searched recursively), mixed to mono and resampled
                               to the model's rate (fsdd: 16 kHz).
        Inputs run in batches of data.eval_batch_size (or --batch-size), the next ones read ahead (data.prefetch).
        --out gets one line per example, in input
        order: {"index", "input" (the file, or the text), "label" (the class id), "label_name", "probabilities"
        ({class name: probability})}; for a CTC model on transcript data (audio_transcripts, fsdd_words: WAV inputs
        as audio_folder's) {"index", "input", "transcription"} (greedy CTC decoding with the model folder's vocab.json,
        its run's processor/, or the recipe's vocabulary). It is written to a temporary file and renamed, so a failure leaves no partial file.
        """;

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<model>")]
        [Description("a run's models/<stage> folder, an HF folder or a model.dcmp artifact")]
        public string Model { get; init; } = "";

        [CommandOption("--recipe <RECIPE>")]
        [Description("the recipe whose data section says how to read the inputs and names the classes; required")]
        public string? Recipe { get; init; }

        [CommandOption("--input <PATH>")]
        [Description("a file (CSV/TSV/JSONL/text, an image, a WAV) or a folder of images or WAV files; required")]
        public string? Input { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("the JSON Lines file to write; required")]
        public string? Out { get; init; }

        [CommandOption("--set <KEY=VALUE>")]
        [Description("override a recipe value (repeatable)")]
        public string[]? Set { get; init; }

        [CommandOption("--batch-size <N>")]
        [Description("examples per forward pass (default: data.eval_batch_size)")]
        public int? BatchSize { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string recipePath = settings.Recipe ?? throw new UsageException("--recipe <recipe.yaml> is required (it says how to read the inputs).");
        string input = settings.Input ?? throw new UsageException("--input <file|folder> is required.");
        string outPath = OutputFile.Check(settings.Out ?? throw new UsageException("--out <predictions.jsonl> is required."), "--out");
        if (settings.BatchSize is < 1) throw new UsageException("--batch-size must be at least 1.");
        if (!File.Exists(input) && !Directory.Exists(input)) throw new InvalidInputException(input, $"--input {Path.GetFullPath(input)}: no such file or folder.");
        var loaded = RecipeLoader.Load(recipePath, settings.Set ?? []);
        if (!loaded.Succeeded) return RecipeErrors.Report(loaded.Errors, Console.Error);
        var recipe = loaded.Recipe!;
        var kind = DatasetRegistry.Default.Get(recipe.Data.Dataset);
        if (kind.OpenInputs is null)
            throw new InvalidInputException(recipePath,
                $"{recipePath}: predict reads new inputs for {string.Join(", ", DatasetRegistry.Default.Keys.Order().Where(k => DatasetRegistry.Default.Get(k).OpenInputs is not null))} recipes, not {recipe.Data.Dataset}.");

        var (model, modelKind) = SavedModel.Load(settings.Model);
        using var _ = model;
        if (kind.Vocabulary is not null) return Transcribe(settings, recipe, kind, model, modelKind, input, outPath);
        IReadOnlyList<string> classes = kind.ClassNames?.Invoke(recipe.Data)
            ?? [.. Enumerable.Range(0, model.NumLabels).Select(i => i.ToString(CultureInfo.InvariantCulture))];
        SavedModelInputs.Check(model, settings.Model, recipe, classes.Count);
        var (data, inputs) = kind.OpenInputs(recipe.Data, Path.GetFullPath(input), classes);

        var device = torch.device(recipe.Train.Device);
        var onDevice = model.to(device);
        int batchSize = settings.BatchSize ?? recipe.Data.EvalBatchSize;
        var counts = new long[classes.Count];
        try
        {
            // A progress bar on a terminal; logs and pipes get only the result table.
            if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
                AnsiConsole.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask($"predict ({data.Count} inputs)", maxValue: data.Count);
                        Predict(data, inputs, classes, onDevice, device, batchSize, recipe.Data.Prefetch, counts, outPath, done => task.Value = done);
                    });
            else
                Predict(data, inputs, classes, onDevice, device, batchSize, recipe.Data.Prefetch, counts, outPath);
        }
        catch (Exception e) when (e is not InvalidInputException && Environment.GetEnvironmentVariable("DISTILL_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: the prediction failed: {ErrorText.Of(e)}\n(set DISTILL_DEBUG=1 for the stack trace)");
            return ExitCodes.Failure;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        var table = new Table().Title($"{data.Count} predictions by {Markup.Escape(settings.Model)} ({modelKind})");
        table.AddColumn("predicted class");
        table.AddColumn(new TableColumn("examples").RightAligned());
        for (int c = 0; c < classes.Count; c++) table.AddRow(Markup.Escape(classes[c]), counts[c].ToString(CultureInfo.InvariantCulture));
        console.Write(table);
        console.MarkupLine($"predictions: [blue]{Markup.Escape(outPath)}[/]");
        return ExitCodes.Success;
    }

    /// <summary>
    /// The vocabulary a CTC model decodes with: the model folder's vocab.json (an exported HF folder), else its run's
    /// processor (<c>&lt;run&gt;/processor/</c> beside <c>&lt;run&gt;/models/&lt;stage&gt;</c>), else the recipe's data.
    /// </summary>
    private static Distill.Text.CtcVocabulary Vocabulary(string modelPath, Recipe recipe, DatasetKind kind)
    {
        string full = Path.GetFullPath(modelPath);
        string folder = Directory.Exists(full) ? full : Path.GetDirectoryName(full) ?? full;
        foreach (string candidate in new[] { folder, Path.Combine(folder, "..", "..", TranscriptProcessorFiles.FolderName) })
            if (File.Exists(Path.Combine(candidate, Distill.Text.CtcVocabulary.FileName))) return Distill.Text.CtcVocabulary.Read(candidate);
        return kind.Vocabulary!(recipe.Data);
    }

    /// <summary>CTC models on transcript recipes: one line per clip, <c>{"index", "input", "transcription"}</c> (greedy decoding).</summary>
    private static int Transcribe(Settings settings, Recipe recipe, DatasetKind kind, Distill.Models.DistillModel model, string modelKind, string input, string outPath)
    {
        var vocabulary = Vocabulary(settings.Model, recipe, kind);
        SavedModelInputs.Check(model, settings.Model, recipe, vocabulary.Count);
        var (data, inputs) = kind.OpenInputs!(recipe.Data, Path.GetFullPath(input), vocabulary.Tokens);
        var device = torch.device(recipe.Train.Device);
        var onDevice = model.to(device);
        int batchSize = settings.BatchSize ?? recipe.Data.EvalBatchSize;
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        try
        {
            onDevice.eval();
            OutputFile.WriteAtomically(outPath, writer =>
            {
                using var noGrad = torch.no_grad();
                using var feed = new BatchPrefetcher(data, BatchPrefetcher.Sequential(data.Count, batchSize), recipe.Data.Prefetch);
                for (int start = 0; start < data.Count; start += batchSize)
                {
                    using var scope = torch.NewDisposeScope();
                    var batch = feed.Take(scope).To(device);
                    var texts = Distill.Training.CtcDecoding.Greedy(onDevice.call(new Distill.Models.Batch(batch.Inputs, null)), vocabulary);
                    for (int i = 0; i < texts.Length; i++)
                    {
                        counts[texts[i]] = counts.GetValueOrDefault(texts[i]) + 1;
                        writer.WriteLine(new JsonObject { ["index"] = start + i, ["input"] = inputs[start + i], ["transcription"] = texts[i] }.ToJsonString());
                    }
                }
            });
        }
        catch (Exception e) when (e is not InvalidInputException && Environment.GetEnvironmentVariable("DISTILL_DEBUG") is null)
        {
            Console.Error.WriteLine($"error: the prediction failed: {ErrorText.Of(e)}\n(set DISTILL_DEBUG=1 for the stack trace)");
            return ExitCodes.Failure;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        var table = new Table().Title($"{data.Count} transcriptions by {Markup.Escape(settings.Model)} ({modelKind})");
        table.AddColumn("transcription");
        table.AddColumn(new TableColumn("clips").RightAligned());
        foreach (var (text, n) in counts.OrderByDescending(kv => kv.Value).Take(20))
            table.AddRow(Markup.Escape(text.Length == 0 ? "(empty)" : text), n.ToString(CultureInfo.InvariantCulture));
        console.Write(table);
        console.MarkupLine($"transcriptions: [blue]{Markup.Escape(outPath)}[/]");
        return ExitCodes.Success;
    }

    /// <summary>Runs the inputs in batches and writes one JSON line per example (temp file, then rename); counts the predicted classes.</summary>
    private static void Predict(IDataset data, IReadOnlyList<string> inputs, IReadOnlyList<string> classes, Distill.Models.DistillModel model,
        Device device, int batchSize, int prefetch, long[] counts, string outPath, Action<int>? progress = null)
    {
        model.eval();
        OutputFile.WriteAtomically(outPath, writer =>
        {
            using var noGrad = torch.no_grad();
            using var feed = new BatchPrefetcher(data, BatchPrefetcher.Sequential(data.Count, batchSize), prefetch);
            for (int start = 0; start < data.Count; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                int n = Math.Min(batchSize, data.Count - start);
                var batch = feed.Take(scope).To(device); // the batch's scope is this one
                var probabilities = nn.functional.softmax(model.call(batch).Logits.to_type(ScalarType.Float32), 1).cpu(); // (B, classes)
                var p = probabilities.data<float>().ToArray();
                for (int i = 0; i < n; i++)
                {
                    var row = p.AsSpan(i * classes.Count, classes.Count);
                    int label = 0;
                    for (int c = 1; c < row.Length; c++) if (row[c] > row[label]) label = c; // argmax, first on ties as torch
                    counts[label]++;
                    var probs = new JsonObject();
                    for (int c = 0; c < row.Length; c++) probs[classes[c]] = Math.Round(row[c], 6);
                    var line = new JsonObject
                    {
                        ["index"] = start + i,
                        ["input"] = inputs[start + i],
                        ["label"] = label,
                        ["label_name"] = classes[label],
                        ["probabilities"] = probs,
                    };
                    writer.WriteLine(line.ToJsonString());
                }
                progress?.Invoke(start + n);
            }
        });
    }
}
