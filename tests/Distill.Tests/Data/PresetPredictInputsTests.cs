using System.IO.Compression;
using System.Text.Json;
using Distill.Audio;
using Distill.Data;
using Distill.Data.Cifar10;
using Distill.Data.Fsdd;
using Distill.Data.Mnist;
using Distill.Data.Sst2;
using Distill.Models;
using Distill.Recipes;
using SkiaSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Data;

/// <summary>
/// <c>distill predict</c>'s inputs for the four presets: examples of the shipped preset data written out as the files a
/// user has (PNG images, WAV files, text lines, JSON Lines), read back through the preset's <c>OpenInputs</c>, give
/// exactly the tensors of the preset's own batch of those examples.
/// </summary>
public sealed class PresetPredictInputsTests : IDisposable
{
    private readonly DataFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static (IDataset Data, IReadOnlyList<string> Inputs) OpenInputs(DataSpec spec, string input)
    {
        var kind = DatasetRegistry.Default.Get(spec.Dataset);
        Assert.NotNull(kind.OpenInputs);
        return kind.OpenInputs(spec, input, kind.ClassNames!(spec));
    }

    private static void AssertSameTensors(Batch expected, Batch actual)
    {
        Assert.Equal(expected.Inputs.Keys.Order(), actual.Inputs.Keys.Order());
        foreach (var (name, tensor) in expected.Inputs)
        {
            Assert.Equal(tensor.shape, actual[name].shape);
            Assert.Equal(tensor.dtype, actual[name].dtype);
            Assert.True(tensor.equal(actual[name]).all().item<bool>(),
                $"{name} differs by up to {(tensor.to_type(ScalarType.Float64) - actual[name].to_type(ScalarType.Float64)).abs().max().item<double>()}");
        }
        Assert.Null(actual.Labels); // inputs for predict have no labels
    }

    private static Batch All(IDataset data) => data.GetBatch([.. Enumerable.Range(0, data.Count)]);

    /// <summary>MNIST test image <paramref name="index"/> as stored: 28×28 grey bytes, read from the IDX file by hand.</summary>
    private static byte[] MnistPixels(int index)
    {
        using var gz = new GZipStream(File.OpenRead(Path.Combine(TestPaths.Data, "mnist", "t10k-images-idx3-ubyte.gz")), CompressionMode.Decompress);
        var bytes = new MemoryStream();
        gz.CopyTo(bytes);
        return bytes.ToArray().AsSpan(16 + index * 784, 784).ToArray(); // header: magic, count, rows, cols
    }

    private static byte[] Png(int width, int height, Func<int, int, SKColor> pixel, SKColorType type = SKColorType.Rgba8888)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, type, type == SKColorType.Gray8 ? SKAlphaType.Opaque : SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) bitmap.SetPixel(x, y, pixel(x, y));
        return DataFiles.EncodeImage(bitmap, SKEncodedImageFormat.Png);
    }

    [Fact]
    public void MnistImagesAsGreyOrRgbPngsGiveThePresetsNormalisedPixels()
    {
        var spec = new DataSpec
        {
            Dataset = "mnist", Path = Path.Combine(TestPaths.Data, "mnist"), EvalSplit = "test",
            Preprocessing = new PreprocessSpec { Mean = [0.1307], Std = [0.3081] },
        };
        int[] examples = [0, 7, 4242];
        for (int k = 0; k < examples.Length; k++)
        {
            var grey = MnistPixels(examples[k]);
            SKColor At(int x, int y) => new(grey[y * 28 + x], grey[y * 28 + x], grey[y * 28 + x]);
            // One stored as an 8-bit grey PNG, the others as RGB PNGs (r = g = b): both decode to the same grey.
            _files.Bytes($"digits/{k}.png", Png(28, 28, At, k == 0 ? SKColorType.Gray8 : SKColorType.Rgba8888));
        }
        var (inputs, names) = OpenInputs(spec, _files["digits"]);
        Assert.Equal([_files["digits/0.png"], _files["digits/1.png"], _files["digits/2.png"]], names);
        var preset = DatasetRegistry.Default.Get("mnist").Open(spec, "test");
        AssertSameTensors(preset.GetBatch(examples), All(inputs));

        // Another size is resized to 28×28 first.
        _files.Image("big/one.png", 40, 30, 10, 20, 30);
        var big = All(OpenInputs(spec, _files["big/one.png"]).Data);
        Assert.Equal([1L, 1, 28, 28], big["pixel_values"].shape);
    }

    [Fact]
    public void Cifar10ImagesAsPngsGiveThePresetsNormalisedPixels()
    {
        var spec = new DataSpec
        {
            Dataset = "cifar10", Path = Path.Combine(TestPaths.Data, "cifar10"), EvalSplit = "test",
            Preprocessing = new PreprocessSpec { Mean = [0.4914, 0.4822, 0.4465], Std = [0.247, 0.243, 0.261] },
        };
        var preset = (Cifar10Dataset)DatasetRegistry.Default.Get("cifar10").Open(spec, "test");
        int[] examples = [3, 0, 999];
        for (int k = 0; k < examples.Length; k++)
        {
            var planes = preset.RawPixels(examples[k]).ToArray(); // R, G, B planes of 32×32
            _files.Bytes($"photos/{k}.png", Png(32, 32, (x, y) => new SKColor(planes[y * 32 + x], planes[1024 + y * 32 + x], planes[2048 + y * 32 + x], 255)));
        }
        AssertSameTensors(preset.GetBatch(examples), All(OpenInputs(spec, _files["photos"]).Data));
        _files.Image("small.png", 16, 16, 10, 20, 30);
        Assert.Equal([1L, 3, 32, 32], All(OpenInputs(spec, _files["small.png"]).Data)["pixel_values"].shape);
    }

    [Fact]
    public void Sst2SentencesAsTextLinesOrJsonLinesGiveThePresetsTokens()
    {
        string folder = Path.Combine(TestPaths.Data, "sst2");
        var spec = new DataSpec { Dataset = "sst2", Path = folder, EvalSplit = "dev", Tokenizer = TestPaths.Tokenizer, MaxLength = 24 };
        var preset = DatasetRegistry.Default.Get("sst2").Open(spec, "dev");
        // dev.tsv as written, PTB bracket escapes included: the preset maps them back, and so must predict.
        var rows = File.ReadAllLines(Path.Combine(folder, "dev.tsv")).Skip(1).Select(l => l[(l.IndexOf('\t') + 1)..]).ToList();
        int escaped = rows.FindIndex(r => r.Contains("-lrb-", StringComparison.Ordinal));
        Assert.True(escaped >= 0);
        int[] examples = [escaped, 0, 5];
        var texts = examples.Select(i => rows[i]).ToList();

        string lines = _files.Text("inputs.txt", string.Join("\n", texts[0], "", texts[1], texts[2]) + "\n");
        var (plain, shown) = OpenInputs(spec, lines);
        Assert.Equal(texts, shown); // the inputs as given
        AssertSameTensors(preset.GetBatch(examples), All(plain));

        string jsonl = _files.Text("inputs.jsonl", string.Concat(texts.Select(t => JsonSerializer.Serialize(new { id = 1, sentence = t }) + "\n")));
        AssertSameTensors(preset.GetBatch(examples), All(OpenInputs(spec, jsonl).Data));
        string csv = _files.Text("inputs.csv", "review\n" + string.Concat(texts.Select(t => "\"" + t.Replace("\"", "\"\"") + "\"\n")));
        AssertSameTensors(preset.GetBatch(examples), All(OpenInputs(spec with { TextColumn = "review" }, csv).Data));
        var missing = Assert.Throws<InvalidInputException>(() => OpenInputs(spec, csv));
        Assert.Contains("sentence", missing.Message);
    }

    [Fact]
    public void FsddRecordingsAsFloatOrStereoWavsGiveThePresetsFeatures()
    {
        string folder = Path.Combine(TestPaths.Data, "fsdd");
        var spec = new DataSpec { Dataset = "fsdd", Path = folder, EvalSplit = "test" };
        var preset = (FsddDataset)DatasetRegistry.Default.Get("fsdd").Open(spec, "test");
        string[] names = ["3_theo_2.wav", "7_jackson_0.wav"];
        var examples = names.Select(n => Enumerable.Range(0, preset.Count).Single(i => Path.GetFileName(preset.File(i)) == n)).ToArray();
        // Written again as a 32-bit float WAV (mono) and as a 16-bit-valued stereo float WAV with two equal channels:
        // the samples survive exactly, the mix-down of equal channels is exact, and both are resampled from 8 kHz as the preset's.
        var first = WavReader.Read(Path.Combine(folder, names[0]));
        _files.Wav("clips/a.wav", [.. first.Channels[0].Select(v => new[] { v })], first.SampleRate, bits: 32, isFloat: true);
        var second = WavReader.Read(Path.Combine(folder, names[1]));
        _files.Wav("clips/b.wav", [.. second.Channels[0].Select(v => new[] { v, v })], second.SampleRate, bits: 32, isFloat: true);
        var (inputs, shown) = OpenInputs(spec, _files["clips"]);
        Assert.Equal([_files["clips/a.wav"], _files["clips/b.wav"]], shown);
        AssertSameTensors(preset.GetBatch(examples), All(inputs));
    }

    [Fact]
    public void EveryRegisteredKindReadsInputsForPredict()
    {
        foreach (var key in DatasetRegistry.Default.Keys)
            Assert.True(DatasetRegistry.Default.Get(key).OpenInputs is not null, $"{key} has no OpenInputs");
    }
}
