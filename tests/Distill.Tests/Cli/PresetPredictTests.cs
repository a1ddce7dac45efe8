using System.IO.Compression;
using System.Text.Json.Nodes;
using Distill.Data;
using Distill.Recipes;
using Distill.Runs;
using Distill.Tests.Data;
using SkiaSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Cli;

/// <summary>
/// <c>distill predict</c> with a preset recipe (mnist): a tiny model trained by <c>distill run</c> predicts PNG files of
/// MNIST test digits with the probabilities it gives the preset's own batch of those digits, with prefetch on or off.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class PresetPredictTests : IDisposable
{
    private readonly DataFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void PredictOnMnistPngsGivesTheModelsProbabilitiesForThePresetsExamples()
    {
        string recipe = _files.Text("mnist.yaml", $"""
            student:
              model: cnn
              config: {"{"}channels: [4], hidden_size: 8{"}"}
            data:
              dataset: mnist
              path: {Path.Combine(TestPaths.Data, "mnist")}
              eval_split: test
              train_limit: 64
              eval_limit: 20
              eval_batch_size: 20
              preprocessing: {"{"}mean: [0.1307], std: [0.3081]{"}"}
            train:
              steps: 2
              batch_size: 32
              log_every: 1
              histogram_every: null
              seed: 3
            stages:
              - kind: baseline
            """);
        string runDir = _files["run"];
        var run = CliRunner.Run("run", recipe, "--out", runDir);
        Assert.True(run.Exit == 0, run.Err + run.Out);
        string model = Path.Combine(runDir, "models", "baseline");

        int[] examples = [11, 2, 345, 9000, 57];
        byte[] images;
        using (var gz = new GZipStream(File.OpenRead(Path.Combine(TestPaths.Data, "mnist", "t10k-images-idx3-ubyte.gz")), CompressionMode.Decompress))
        {
            var bytes = new MemoryStream();
            gz.CopyTo(bytes);
            images = bytes.ToArray();
        }
        for (int k = 0; k < examples.Length; k++)
        {
            var bitmap = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            for (int p = 0; p < 784; p++)
            {
                byte v = images[16 + examples[k] * 784 + p];
                bitmap.SetPixel(p % 28, p / 28, new SKColor(v, v, v, 255));
            }
            _files.Bytes($"digits/{k}.png", DataFiles.EncodeImage(bitmap, SKEncodedImageFormat.Png));
        }

        string predictions = _files["predictions.jsonl"];
        var (exit, output, err) = CliRunner.Run("predict", model, "--recipe", recipe, "--input", _files["digits"], "--out", predictions, "--batch-size", "2");
        Assert.True(exit == 0, err + output);
        var lines = File.ReadAllLines(predictions).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(examples.Length, lines.Count);

        // The model on the preset's own batch of the same digits.
        var (loaded, _) = SavedModel.Load(model);
        using var _ = loaded;
        loaded.eval();
        var spec = new DataSpec
        {
            Dataset = "mnist", Path = Path.Combine(TestPaths.Data, "mnist"), EvalSplit = "test",
            Preprocessing = new PreprocessSpec { Mean = [0.1307], Std = [0.3081] },
        };
        float[] expected;
        using (torch.no_grad())
            expected = nn.functional.softmax(loaded.call(DatasetRegistry.Default.Get("mnist").Open(spec, "test").GetBatch(examples)).Logits, 1).data<float>().ToArray();
        string[] digits = [.. Enumerable.Range(0, 10).Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        for (int k = 0; k < lines.Count; k++)
        {
            var line = lines[k];
            Assert.Equal(k, (int)line["index"]!);
            Assert.Equal(_files[$"digits/{k}.png"], (string)line["input"]!);
            var probabilities = line["probabilities"]!.AsObject();
            Assert.Equal(digits, probabilities.Select(kv => kv.Key));
            for (int c = 0; c < 10; c++) // written rounded to 6 decimals; batches of 2 there, of 5 here
                Assert.InRange(Math.Abs(expected[k * 10 + c] - (double)probabilities[digits[c]]!), 0, 1e-6);
            int label = (int)line["label"]!;
            Assert.Equal(digits[label], (string)line["label_name"]!);
            Assert.Equal(expected.AsSpan(k * 10, 10).ToArray().Max(), expected[k * 10 + label]);
        }

        // Without prefetch: the same file.
        string inline = _files["inline.jsonl"];
        var off = CliRunner.Run("predict", model, "--recipe", recipe, "--input", _files["digits"], "--out", inline, "--batch-size", "2", "--set", "data.prefetch=0");
        Assert.True(off.Exit == 0, off.Err + off.Out);
        Assert.Equal(File.ReadAllText(predictions), File.ReadAllText(inline));
    }
}
