using Distill.Audio;
using Distill.Data;
using Distill.Data.Fsdd;
using Distill.Models.Wav2Vec2;
using Distill.Recipes;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static Distill.Tests.Wav2Vec2.Wav2Vec2TestData;

namespace Distill.Tests.Wav2Vec2;

/// <summary>Both splits are opened once for the class (reading and resampling 2,500 files).</summary>
public sealed class FsddFixture
{
    public string Dir { get; } = Path.Combine(TestPaths.Data, "fsdd");
    public FsddDataset Train { get; }
    public FsddDataset Test { get; }

    public FsddFixture()
    {
        var spec = new DataSpec { Dataset = "fsdd", Path = Dir };
        var kind = DatasetRegistry.Default.Get("fsdd");
        Assert.Empty(kind.Validate(spec));
        Train = (FsddDataset)kind.Open(spec, "train");
        Test = (FsddDataset)kind.Open(spec, "test");
    }
}

public class FsddDatasetTests(FsddFixture data) : IClassFixture<FsddFixture>
{
    [Fact]
    public void OfficialSplitHas1000TrainAnd250TestBalancedOverDigits()
    {
        // data/fsdd keeps file indices 0-24 of 5 speakers: 0-4 = test, 5-24 = train (data/README.md).
        Assert.Equal(1000, data.Train.Count);
        Assert.Equal(250, data.Test.Count);
        Assert.Equal(10, data.Train.NumClasses);
        for (int d = 0; d < 10; d++)
        {
            Assert.Equal(100, Enumerable.Range(0, data.Train.Count).Count(i => data.Train.Label(i) == d));
            Assert.Equal(25, Enumerable.Range(0, data.Test.Count).Count(i => data.Test.Label(i) == d));
        }
        foreach (int i in new[] { 0, 100, 249 })
        {
            var parts = Path.GetFileNameWithoutExtension(data.Test.File(i)).Split('_');
            Assert.InRange(int.Parse(parts[2]), 0, 4);
            Assert.Equal(int.Parse(parts[0]), data.Test.Label(i));
        }
        Assert.All(Enumerable.Range(0, data.Train.Count).Where(i => i % 97 == 0),
            i => Assert.InRange(int.Parse(Path.GetFileNameWithoutExtension(data.Train.File(i)).Split('_')[2]), 5, 24));
    }

    [Fact]
    public void BatchesAre16kNormalisedPaddedAndMasked()
    {
        int[] idx = [3, 120, 249];
        var batch = data.Test.GetBatch(idx);
        var x = batch["input_values"];
        var mask = batch["attention_mask"];
        Assert.Equal(ScalarType.Float32, x.dtype);
        Assert.Equal(ScalarType.Int32, mask.dtype);
        Assert.Equal(idx.Select(i => (long)data.Test.Label(i)), batch.RequireLabels().data<long>().ToArray());
        long width = x.shape[1];
        for (int r = 0; r < idx.Length; r++)
        {
            var original = WavReader.Read(data.Test.File(idx[r]));
            Assert.Equal(8000, original.SampleRate);
            int real = data.Test.Length(idx[r]);
            Assert.Equal(2 * original.Length, real); // 8 kHz → 16 kHz doubles the length
            Assert.Equal(real, mask[r].sum().item<long>());
            Assert.Equal(real, mask[r].narrow(0, 0, real).sum().item<long>()); // right padding
            var row = x[r].narrow(0, 0, real).to_type(ScalarType.Float64);
            Assert.InRange(row.mean().item<double>(), -1e-5, 1e-5);
            Assert.InRange(row.var(unbiased: false).item<double>(), 0.999, 1.001);
            if (real < width) Assert.Equal(0.0, x[r].narrow(0, real, width - real).abs().max().item<float>());
        }
        Assert.Equal(idx.Max(i => data.Test.Length(i)), (int)width);
    }

    [Fact]
    public void BatchesRunThroughTheWav2Vec2Classifier()
    {
        string folder = Folder("layernorm", "Wav2Vec2ForSequenceClassification");
        var model = new Wav2Vec2ForSequenceClassification(Config(folder));
        LoadStrict(model, Checkpoint(folder));
        model.eval();
        using var _ = torch.no_grad();
        var output = model.call(data.Train.GetBatch([0, 1, 2, 3]));
        Assert.Equal(new long[] { 4, 10 }, output.Logits.shape);
        Assert.True(output.Logits.isfinite().all().item<bool>());
        Assert.True(float.IsFinite(output.Loss!.item<float>()));
    }

    [Fact]
    public void BadSpecsAndFilesAreReported()
    {
        var kind = DatasetRegistry.Default.Get("fsdd");
        var problems = kind.Validate(new DataSpec { Dataset = "fsdd", Path = data.Dir, TrainSplit = "validation", Preprocessing = new PreprocessSpec { Mean = [0.5], Std = [0.5] } }).ToList();
        Assert.Contains(problems, p => p.Key == "train_split" && p.Message.Contains("validation"));
        Assert.Contains(problems, p => p.Key == "preprocessing");
        string dir = Path.Combine(Path.GetTempPath(), $"fsdd-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            Assert.Contains(kind.Validate(new DataSpec { Dataset = "fsdd", Path = dir }), p => p.Key == "path");
            Assert.Throws<DirectoryNotFoundException>(() => FsddDataset.Open(dir, "train"));
            File.Copy(data.Test.File(0), Path.Combine(dir, "3_jackson_0.wav"));
            File.WriteAllBytes(Path.Combine(dir, "seven.wav"), AudioTests.Wav(1, 1, 8000, 16, new byte[800]));
            var ex = Assert.Throws<InvalidDataException>(() => FsddDataset.Open(dir, "test"));
            Assert.Contains("seven.wav", ex.Message);
            File.Delete(Path.Combine(dir, "seven.wav"));
            File.WriteAllBytes(Path.Combine(dir, "4_theo_2.wav"), [1, 2, 3]);
            ex = Assert.Throws<InvalidDataException>(() => FsddDataset.Open(dir, "test"));
            Assert.Contains("4_theo_2.wav", ex.Message);
            var train = Assert.Throws<InvalidDataException>(() => FsddDataset.Open(dir, "train"));
            Assert.Contains("no recordings of the train split", train.Message);
            Assert.Throws<ArgumentException>(() => FsddDataset.Open(dir, "dev"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
