using Distill.Data;
using Distill.Data.Cifar10;
using Distill.Recipes;
using Distill.Vision;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace Distill.Tests.Vit;

public class Cifar10DatasetTests(ITestOutputHelper output)
{
    private static readonly string Dir = Path.Combine(TestPaths.Data, "cifar10");
    private static readonly PreprocessSpec Half = new() { Mean = [0.5, 0.5, 0.5], Std = [0.5, 0.5, 0.5] };

    private static int[] IndexLabels(string file) =>
        File.ReadLines(Path.Combine(Dir, file)).Skip(1).Select(l => int.Parse(l.Split('\t')[1])).ToArray();

    [Theory]
    [InlineData("train", 4_000, "train_index.tsv")]   // the subset shipped in data/cifar10 (data/README.md)
    [InlineData("test", 1_000, "test_index.tsv")]
    public void CountsAndLabelsMatchTheIndex(string split, int count, string index)
    {
        var data = Cifar10Dataset.Open(Dir, split, null, null);
        Assert.Equal(count, data.Count);
        Assert.Equal(10, data.NumClasses);
        var labels = IndexLabels(index);
        Assert.Equal(count, labels.Length);
        Assert.Equal(labels[0], data.Label(0));
        Assert.Equal(labels, Enumerable.Range(0, count).Select(data.Label).ToArray());
    }

    [Fact]
    public void TestRecordsZeroToThreeGiveTheHuggingFaceReferencePixelValues()
    {
        // Records 0-3 of test_5k, kept as the first records of data/cifar10/test.bin, are the four reference images (SOURCES.md §6b).
        var reference = VitReference.Outputs(VitReference.BaseFolder);
        var batch = Cifar10Dataset.Open(Dir, "test", Half.Mean, Half.Std).GetBatch([0, 1, 2, 3]);
        double diff = VitReference.MaxAbsDiff(batch["pixel_values"], reference["pixel_values"]);
        output.WriteLine($"recipe mean/std path: max abs diff {diff:E2}");
        Assert.True(diff <= 1e-6);
        Assert.Equal(new long[] { 0, 7, 9, 9 }, batch.RequireLabels().data<long>().ToArray());

        var processor = ViTImageProcessor.Load(Path.Combine(VitReference.Folder(VitReference.BaseFolder), "preprocessor_config.json"));
        var viaProcessor = Cifar10Dataset.Open(Dir, "test", processor).GetBatch([0, 1, 2, 3]);
        diff = VitReference.MaxAbsDiff(viaProcessor["pixel_values"], reference["pixel_values"]);
        output.WriteLine($"processor path: max abs diff {diff:E2}");
        Assert.True(diff <= 1e-6);
    }

    [Fact]
    public void WithoutMeanAndStdPixelsAreScaledToUnitRange()
    {
        var data = Cifar10Dataset.Open(Dir, "train", null, null);
        var x = data.GetBatch([0])["pixel_values"];
        Assert.Equal(new long[] { 1, 3, 32, 32 }, x.shape);
        var raw = data.RawPixels(0).ToArray().Select(b => b / 255f).ToArray();
        Assert.Equal(raw, x.data<float>().ToArray());
    }

    [Fact]
    public void RegisteredWithValidation()
    {
        var kind = DatasetRegistry.Default.Get("cifar10");
        var spec = new DataSpec { Dataset = "cifar10", Path = Dir, Preprocessing = Half };
        Assert.Empty(kind.Validate(spec));
        Assert.Equal(new long[] { 3, 32, 32 }, kind.Inputs(spec).Single().Shape);
        Assert.Equal(1000, kind.Open(spec, "test").Count);

        Assert.Contains(kind.Validate(spec with { Preprocessing = new() { Mean = [0.5], Std = [0.5] } }), p => p.Key == "preprocessing.mean");
        Assert.Contains(kind.Validate(spec with { Preprocessing = new() { Mean = [0.5, 0.5, 0.5] } }), p => p.Key == "preprocessing");
        Assert.Contains(kind.Validate(spec with { EvalSplit = "validation" }), p => p.Key == "eval_split");
        Assert.Contains(kind.Validate(spec with { Path = Path.GetTempPath() }), p => p.Key == "path");
        Assert.Throws<ArgumentException>(() => Cifar10Dataset.Open(Dir, "test", [0.5, 0.5, 0.5], [0.5, 0, 0.5]));
    }

    [Fact]
    public void TruncatedFileIsAClearError()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cifar-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "test_5k.bin"), new byte[Cifar10Dataset.RecordBytes + 5]);
            var e = Assert.Throws<InvalidDataException>(() => Cifar10Dataset.Open(dir, "test", null, null));
            Assert.Contains("test_5k.bin", e.Message);
            var bad = new byte[Cifar10Dataset.RecordBytes * 2];
            bad[Cifar10Dataset.RecordBytes] = 12;
            File.WriteAllBytes(Path.Combine(dir, "test_5k.bin"), bad);
            e = Assert.Throws<InvalidDataException>(() => Cifar10Dataset.Open(dir, "test", null, null));
            Assert.Contains("record 1", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
