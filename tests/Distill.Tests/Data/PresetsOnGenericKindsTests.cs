using Distill.Data;
using Distill.Data.Cifar10;
using Distill.Data.Fsdd;
using Distill.Data.Sst2;
using Distill.Data.TextClassification;
using Distill.Models;
using Distill.Recipes;
using Distill.Text;
using SkiaSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Data;

/// <summary>
/// The three preset datasets read through the generic kinds give exactly the presets' examples, in the same order
/// (so a recipe moved from a preset to a generic kind trains identically with the same seed): SST-2 as
/// <c>text_classification</c> (<c>rename_columns</c>, <c>text_unescape: ptb</c>), FSDD as <c>audio_folder</c> through the
/// shipped <c>data/fsdd-splits/*/metadata.csv</c>, CIFAR-10 as <c>image_folder</c> with a metadata.csv over PNG copies.
/// </summary>
public sealed class PresetsOnGenericKindsTests : IDisposable
{
    private readonly DataFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static void AssertSameBatch(Batch expected, Batch actual, string what)
    {
        Assert.Equal(expected.Inputs.Keys.Order(), actual.Inputs.Keys.Order());
        foreach (var (name, tensor) in expected.Inputs)
        {
            Assert.Equal(tensor.shape, actual[name].shape);
            Assert.Equal(tensor.dtype, actual[name].dtype);
            Assert.True(tensor.equal(actual[name]).all().item<bool>(), $"{what}: {name} differs");
        }
        Assert.True(expected.Labels!.equal(actual.Labels!).all().item<bool>(), $"{what}: labels differ");
    }

    private static void AssertSameExamples(IDataset preset, IDataset generic, string what, int batch)
    {
        Assert.Equal(preset.Count, generic.Count);
        Assert.Equal(preset.NumClasses, generic.NumClasses);
        for (int start = 0; start < preset.Count; start += batch)
        {
            using var scope = NewDisposeScope();
            int[] indices = [.. Enumerable.Range(start, Math.Min(batch, preset.Count - start))];
            AssertSameBatch(preset.GetBatch(indices), generic.GetBatch(indices), $"{what} examples {start}..");
        }
    }

    private static DataSpec Sst2AsTable(string split) => new()
    {
        Dataset = "text_classification", Path = Path.Combine(TestPaths.Data, "sst2"), Tokenizer = TestPaths.Tokenizer, MaxLength = 64,
        TextColumn = "sentence", LabelColumn = "label", Labels = ["negative", "positive"],
        RenameColumns = new() { ["content"] = "sentence" }, TextUnescape = TextUnescape.Ptb, EvalSplit = split,
    };

    [Fact]
    public void Sst2AsTextClassificationTokenizesEverySentenceAsThePresetDoes()
    {
        var presetSpec = new DataSpec { Dataset = "sst2", Path = Path.Combine(TestPaths.Data, "sst2"), Tokenizer = TestPaths.Tokenizer, MaxLength = 64 };
        foreach (string split in new[] { "dev", "train" })
        {
            var preset = (Sst2Dataset)DatasetRegistry.Default.Get("sst2").Open(presetSpec, split);
            var table = (TextClassificationDataset)DatasetRegistry.Default.Get("text_classification").Open(Sst2AsTable(split), split);
            Assert.Equal(preset.Count, table.Count);
            Assert.Equal(new[] { "negative", "positive" }, table.ClassNames);
            for (int i = 0; i < preset.Count; i++)
            {
                Assert.Equal(preset.Label(i), table.Label(i));
                Assert.True(preset.Encoding(i).InputIds.SequenceEqual(table.Encoding(i).InputIds), $"{split} row {i}: tokens differ");
            }
            if (split == "dev") AssertSameExamples(preset, table, "sst2 dev", 256);
        }
    }

    [Fact]
    public void WithoutUnescapeOrRenameTheDevSplitIsReadDifferentlyOrRefused()
    {
        var open = DatasetRegistry.Default.Get("text_classification");
        var noRename = Assert.Throws<InvalidInputException>(() => open.Open(Sst2AsTable("dev") with { RenameColumns = null }, "dev"));
        Assert.Contains("no column 'sentence'", noRename.Message);
        Assert.Contains("'content'", noRename.Message);
        var escaped = (TextClassificationDataset)open.Open(Sst2AsTable("dev") with { TextUnescape = TextUnescape.None }, "dev");
        var clean = (TextClassificationDataset)open.Open(Sst2AsTable("dev"), "dev");
        int differing = Enumerable.Range(0, clean.Count).Count(i => !clean.Encoding(i).InputIds.SequenceEqual(escaped.Encoding(i).InputIds));
        Assert.Equal(42, differing); // the dev lines holding -lrb- / -rrb- (grep -c lrb dev.tsv)
    }

    [Fact]
    public void RenamingTwoColumnsToOneNameIsRefusedNamingBoth()
    {
        string csv = _files.Text("t/train.csv", "text,content,label\na,b,0\nc,d,1\n");
        var spec = new DataSpec
        {
            Dataset = "text_classification", Path = _files["t"], Tokenizer = TestPaths.Tokenizer, TextColumn = "text",
            RenameColumns = new() { ["content"] = "text" }, EvalSplit = "train",
        };
        var e = Assert.Throws<InvalidInputException>(() => DatasetRegistry.Default.Get("text_classification").Open(spec, "train"));
        Assert.Contains(csv + ":1", e.Message);
        Assert.Contains("'text' and 'content'", e.Message);
        // JSON Lines keys are renamed too.
        _files.Text("j/train.jsonl", "{\"review\": \"good\", \"label\": 1}\n{\"review\": \"bad\", \"label\": 0}\n");
        var jsonSpec = spec with { Path = _files["j"], RenameColumns = new() { ["review"] = "text" } };
        var data = (TextClassificationDataset)DatasetRegistry.Default.Get("text_classification").Open(jsonSpec, "train");
        Assert.Equal(2, data.Count);
    }

    [Fact]
    public void FsddAsAudioFolderMetadataGivesThePresetsClipsInOrder()
    {
        foreach (string split in new[] { "test", "train" })
        {
            var preset = DatasetRegistry.Default.Get("fsdd").Open(new DataSpec { Dataset = "fsdd", Path = Path.Combine(TestPaths.Data, "fsdd"), EvalSplit = "test" }, split);
            var folder = DatasetRegistry.Default.Get("audio_folder").Open(
                new DataSpec { Dataset = "audio_folder", Path = Path.Combine(TestPaths.Data, "fsdd-splits"), EvalSplit = "test" }, split);
            AssertSameExamples(preset, folder, $"fsdd {split}", 125);
        }
    }

    [Fact]
    public void Cifar10AsImageFolderMetadataGivesThePresetsPixelsInOrder()
    {
        var mean = new List<double> { 0.4914, 0.4822, 0.4465 };
        var std = new List<double> { 0.2470, 0.2435, 0.2616 };
        var presetSpec = new DataSpec
        {
            Dataset = "cifar10", Path = Path.Combine(TestPaths.Data, "cifar10"), EvalSplit = "test",
            Preprocessing = new PreprocessSpec { Mean = mean, Std = std },
        };
        var preset = (Cifar10Dataset)DatasetRegistry.Default.Get("cifar10").Open(presetSpec, "test");
        // Every test record as a PNG in one flat folder, listed by a metadata.csv in record order (not class-folder order).
        var rows = new List<string> { "file_name,label" };
        var classes = Cifar10Dataset.ClassNames;
        for (int i = 0; i < preset.Count; i++)
        {
            var planes = preset.RawPixels(i).ToArray(); // R, G, B planes of 32×32
            var bitmap = new SKBitmap(new SKImageInfo(32, 32, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    bitmap.SetPixel(x, y, new SKColor(planes[y * 32 + x], planes[1024 + y * 32 + x], planes[2048 + y * 32 + x], 255));
            _files.Bytes($"images/{i:D4}.png", DataFiles.EncodeImage(bitmap, SKEncodedImageFormat.Png));
            rows.Add($"../../images/{i:D4}.png,{classes[preset.Label(i)]}");
        }
        _files.Text("cifar/train/metadata.csv", string.Join("\n", rows) + "\n");
        _files.Text("cifar/test/metadata.csv", string.Join("\n", rows) + "\n");
        var folderSpec = new DataSpec
        {
            Dataset = "image_folder", Path = _files["cifar"], EvalSplit = "test", Labels = [.. classes],
            Preprocessing = new PreprocessSpec { Mean = mean, Std = std, Channels = 3 },
        };
        var folder = DatasetRegistry.Default.Get("image_folder").Open(folderSpec, "test");
        AssertSameExamples(preset, folder, "cifar10 test", 250);

        // Without data.labels the classes are the metadata's labels, sorted: the same ten names, another order.
        var sorted = DatasetRegistry.Default.Get("image_folder").ClassNames!(folderSpec with { Labels = null });
        Assert.Equal(classes.Order(StringComparer.Ordinal), sorted);
    }

    [Fact]
    public void ImageFolderMetadataErrorsNameTheFileAndLine()
    {
        _files.Image("x/a.png", 4, 4, 1, 2, 3);
        string train = _files.Text("x/train/metadata.csv", "file_name,label\n../a.png,cat\n../a.png,dog\n");
        string test = _files.Text("x/test/metadata.csv", "file_name,label\n../a.png,cat\n../missing.png,dog\n");
        var spec = new DataSpec { Dataset = "image_folder", Path = _files["x"], EvalSplit = "test", Preprocessing = new PreprocessSpec { Channels = 3 } };
        var kind = DatasetRegistry.Default.Get("image_folder");
        Assert.Equal(2, kind.Open(spec, "train").Count);
        var missing = Assert.Throws<InvalidInputException>(() => kind.Open(spec, "test"));
        Assert.Contains(test + ":3", missing.Message);
        Assert.Contains("'../missing.png' does not exist", missing.Message);
        _files.Text("x/test/metadata.csv", "file_name,label\n../a.png,bird\n");
        var unknown = Assert.Throws<InvalidInputException>(() => kind.Open(spec, "test"));
        Assert.Contains("label 'bird' is not a class", unknown.Message);
        _files.Text("x/test/metadata.csv", "file_name,label\n../train/metadata.csv,cat\n");
        var notImage = Assert.Throws<InvalidInputException>(() => kind.Open(spec, "test"));
        Assert.Contains("is not one of .png", notImage.Message);
        File.Delete(_files["x/test/metadata.csv"]);
        Directory.CreateDirectory(_files["x/test/cat"]);
        _files.Image("x/test/cat/b.png", 4, 4, 1, 2, 3);
        var mixed = Assert.Throws<InvalidInputException>(() => kind.Open(spec, "test"));
        Assert.Contains($"listed in {train}", mixed.Message);
    }
}
