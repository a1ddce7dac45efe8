using System.Text.Json.Nodes;
using Distill.Tests.Data;
using Distill.Tests.Runs;
using Xunit;

namespace Distill.Tests.Cli;

/// <summary>
/// <c>distill eval</c> and <c>distill predict</c> on models a run wrote: the same accuracy the run recorded (from the
/// model folder and from the compressed artifact), a consistent report, predictions that agree with it, and bad input
/// that is exit 2 before anything is written.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class EvalPredictTests : IDisposable
{
    private readonly OwnData _data = new();

    public void Dispose() => _data.Dispose();

    private (string RunDir, JsonNode Summary) Run(string stages)
    {
        string runDir = _data.NewRunDir();
        var (exit, output, err) = CliRunner.Run("run", _data.Recipe(stages: stages), "--out", runDir);
        Assert.True(exit == 0, err + output);
        return (runDir, JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!);
    }

    private static double Accuracy(JsonNode summary, string stage, string split) =>
        (double)summary["stages"]!.AsArray().Single(s => (string)s!["name"]! == stage)!["metrics_by_split"]![split]!["accuracy"]!;

    [Fact]
    public void EvalGivesExactlyTheAccuracyTheRunRecordedAndAFullReport()
    {
        var (runDir, summary) = Run("- kind: baseline\n- kind: export");
        string recipe = _data.Recipe();
        string metrics = _data["metrics.json"];
        var (exit, output, err) = CliRunner.Run("eval", Path.Combine(runDir, "models", "baseline"), "--recipe", recipe, "--out", metrics);
        Assert.True(exit == 0, err + output);
        Assert.Contains("confusion matrix", output);

        var json = JsonNode.Parse(File.ReadAllText(metrics))!;
        Assert.Equal(Accuracy(summary, "baseline", "validation"), (double)json["accuracy"]!); // exactly: same batches, same arithmetic
        Assert.Equal(Accuracy(summary, "baseline", "test"), (double)json["splits"]!["test"]!["accuracy"]!);
        Assert.Equal("validation", (string)json["split"]!);
        var matrix = json["confusion_matrix"]!.AsArray().Select(r => r!.AsArray().Select(v => (long)v!).ToArray()).ToArray();
        Assert.Equal(3, matrix.Length);
        Assert.Equal(12, matrix.Sum(r => r.Sum()));
        Assert.Equal((double)json["accuracy"]!, (matrix[0][0] + matrix[1][1] + matrix[2][2]) / 12.0, 12);
        var perClass = json["per_class"]!.AsObject();
        Assert.Equal(OwnData.Classes, perClass.Select(kv => kv.Key));
        Assert.All(perClass, kv => Assert.Equal(4, (long)kv.Value!["support"]!));
        Assert.Equal(matrix[1][1] / 4.0, (double)perClass["middle"]!["recall"]!, 12);
        Assert.Equal((double)json["macro_f1"]!, perClass.Average(kv => (double)kv.Value!["f1"]!), 12);

        // Each split's confusion matrix as a PNG beside the JSON: every cell shaded by its share of its row.
        foreach (string split in new[] { "validation", "test" })
        {
            string png = _data[$"metrics.confusion-{split}.png"];
            Assert.Contains(png, output);
            using var bitmap = SkiaSharp.SKBitmap.Decode(png);
            Assert.NotNull(bitmap);
            Assert.Equal(Distill.Training.ConfusionMatrixPlot.Size(OwnData.Classes), (bitmap.Width, bitmap.Height));
            var rows = (split == "validation" ? json : json["splits"]![split]!)["confusion_matrix"]!.AsArray()
                .Select(r => r!.AsArray().Select(v => (long)v!).ToArray()).ToArray();
            for (int t = 0; t < 3; t++)
                for (int p = 0; p < 3; p++)
                {
                    var (x, y) = Distill.Training.ConfusionMatrixPlot.CellOrigin(OwnData.Classes, t, p);
                    var pixel = bitmap.GetPixel((int)x + 4, (int)y + 4); // a corner of the cell, clear of its count
                    string hex = Distill.Training.ConfusionMatrixPlot.Shade((double)rows[t][p] / rows[t].Sum());
                    var expected = SkiaSharp.SKColor.Parse(hex);
                    Assert.True(Math.Abs(pixel.Red - expected.Red) <= 2 && Math.Abs(pixel.Green - expected.Green) <= 2 && Math.Abs(pixel.Blue - expected.Blue) <= 2,
                        $"{split} cell ({t}, {p}): {pixel} drawn, {expected} for {rows[t][p]} of {rows[t].Sum()}");
                }
        }

        // The artifact the export stage wrote, reloaded on its own: the export stage's recorded accuracy.
        var artifact = CliRunner.Run("eval", Path.Combine(runDir, "artifacts", "export", "model.dcmp"), "--recipe", recipe, "--split", "test", "--out", metrics);
        Assert.True(artifact.Exit == 0, artifact.Err + artifact.Out);
        Assert.Equal(Accuracy(summary, "export", "test"), (double)JsonNode.Parse(File.ReadAllText(metrics))!["accuracy"]!);
    }

    [Fact]
    public void PredictWritesOneLinePerImageThatAgreesWithEval()
    {
        var (runDir, summary) = Run("- kind: baseline");
        string model = Path.Combine(runDir, "models", "baseline");
        string predictions = _data["predictions.jsonl"];
        var (exit, output, err) = CliRunner.Run("predict", model, "--recipe", _data.Recipe(), "--input", Path.Combine(_data.Images, "test"), "--out", predictions, "--batch-size", "5");
        Assert.True(exit == 0, err + output);
        var lines = File.ReadAllLines(predictions).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(12, lines.Count);
        Assert.Equal(Enumerable.Range(0, 12), lines.Select(l => (int)l["index"]!));
        foreach (var line in lines)
        {
            var probabilities = line["probabilities"]!.AsObject();
            Assert.Equal(OwnData.Classes, probabilities.Select(kv => kv.Key));
            Assert.Equal(1.0, probabilities.Sum(kv => (double)kv.Value!), 4);
            Assert.Equal(OwnData.Classes[(int)line["label"]!], (string)line["label_name"]!);
            Assert.Equal(probabilities.MaxBy(kv => (double)kv.Value!).Key, (string)line["label_name"]!);
        }
        // The test folder's own class folders are the truth: the share predicted right is the accuracy the run recorded.
        double right = lines.Count(l => Path.GetFileName(Path.GetDirectoryName((string)l["input"]!)) == (string)l["label_name"]!) / 12.0;
        Assert.Equal(Accuracy(summary, "baseline", "test"), right, 12);
        Assert.False(File.Exists(predictions + $".tmp-{Environment.ProcessId}"));
    }

    [Fact]
    public void BadDataIsExit2NamingTheFileBeforeAnythingIsWritten()
    {
        string broken = Path.Combine(_data.Images, "validation", "top", "001.png");
        File.WriteAllBytes(broken, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        string recipe = _data.Recipe();
        string runDir = _data.NewRunDir();

        var validate = CliRunner.Run("validate", recipe);
        Assert.Equal(2, validate.Exit);
        Assert.Contains(broken, validate.Err);

        var (exit, output, err) = CliRunner.Run("run", recipe, "--out", runDir);
        Assert.True(exit == 2, err + output);
        Assert.Contains($"data (validation split): {broken}: not an image SkiaSharp can decode", err);
        Assert.False(Directory.Exists(runDir), "nothing may be written for invalid input");

        string metrics = _data["metrics.json"];
        var eval = CliRunner.Run("eval", runDir, "--recipe", recipe, "--out", metrics);
        Assert.Equal(2, eval.Exit); // no such model folder
        Assert.False(File.Exists(metrics));
    }

    [Fact]
    public void TextModelsPredictFromPlainLinesAndFromATable()
    {
        using var files = new DataFiles();
        var rows = new[] { ("a great and lovely film", "pos"), ("dull, boring and bad", "neg"), ("lovely acting, great story", "pos"), ("bad plot and dull acting", "neg") };
        string table = "review,sentiment\n" + string.Join("\n", Enumerable.Repeat(rows, 4).SelectMany(r => r).Select(r => $"\"{r.Item1}\",{r.Item2}")) + "\n";
        files.Text("text/train.csv", table);
        files.Text("text/test.csv", table);
        string recipe = files.Text("text.yaml", $"""
            student:
              model: bert
              config: {"{"}vocab_size: 30522, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: 16, max_position_embeddings: 32{"}"}
            data:
              dataset: text_classification
              path: {files["text"]}
              text_column: review
              label_column: sentiment
              tokenizer: {TestPaths.Tokenizer}
              max_length: 16
              eval_batch_size: 8
            train: {"{"}optimizer: adamw, lr: 0.01, steps: 4, batch_size: 4, seed: 1, log_every: 1, histogram_every: null{"}"}
            output: {"{"}tensorboard: false{"}"}
            stages:
              - kind: baseline
            """);
        string runDir = Path.Combine(files.Root, "run");
        var run = CliRunner.Run("run", recipe, "--out", runDir);
        Assert.True(run.Exit == 0, run.Err + run.Out);

        string model = Path.Combine(runDir, "models", "baseline");
        string lines = files.Text("new.txt", "what a lovely film\n\nso dull\n");
        string predictions = files["predictions.jsonl"];
        var (exit, output, err) = CliRunner.Run("predict", model, "--recipe", recipe, "--input", lines, "--out", predictions);
        Assert.True(exit == 0, err + output);
        var written = File.ReadAllLines(predictions).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(["what a lovely film", "so dull"], written.Select(l => (string)l["input"]!));
        Assert.All(written, l => Assert.Contains((string)l["label_name"]!, new[] { "neg", "pos" }));

        var fromTable = CliRunner.Run("predict", model, "--recipe", recipe, "--input", Path.Combine(files["text"], "test.csv"), "--out", predictions);
        Assert.True(fromTable.Exit == 0, fromTable.Err + fromTable.Out);
        Assert.Equal(16, File.ReadAllLines(predictions).Length);

        var eval = CliRunner.Run("eval", model, "--recipe", recipe, "--out", files["m.json"]);
        Assert.True(eval.Exit == 0, eval.Err + eval.Out);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json")))!;
        Assert.Equal((double)summary["stages"]![0]!["metrics"]!["accuracy"]!, (double)JsonNode.Parse(File.ReadAllText(files["m.json"]))!["accuracy"]!);
        Assert.Equal(["neg", "pos"], summary["labels"]!.AsArray().Select(l => (string)l!));

        // The same model exported as an HF folder evaluates to the same accuracy.
        string hf = Path.Combine(files.Root, "hf");
        var export = CliRunner.Run("export", runDir, "--stage", "baseline", "--out", hf);
        Assert.True(export.Exit == 0, export.Err + export.Out);
        var fromHf = CliRunner.Run("eval", hf, "--recipe", recipe, "--out", files["hf.json"]);
        Assert.True(fromHf.Exit == 0, fromHf.Err + fromHf.Out);
        Assert.Contains("HuggingFace folder", fromHf.Out);
        Assert.Equal((double)summary["stages"]![0]!["metrics"]!["accuracy"]!, (double)JsonNode.Parse(File.ReadAllText(files["hf.json"]))!["accuracy"]!);

        // The text model with the image recipe: refused before it runs, naming what the model reads.
        var mismatch = CliRunner.Run("eval", model, "--recipe", _data.Recipe(), "--out", files["x.json"]);
        Assert.Equal(2, mismatch.Exit);
        Assert.Contains("the model (bert) reads input_ids, which image_folder data does not give (pixel_values)", mismatch.Err);
        Assert.False(File.Exists(files["x.json"]));
    }
}
