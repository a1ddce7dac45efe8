using Distill.Audio;
using Distill.Data;
using Distill.Data.AudioFolder;
using Distill.Recipes;
using Xunit;

namespace Distill.Tests.Data;

public sealed class AudioFolderDatasetTests : IDisposable
{
    private readonly DataFiles _files = new();
    private static readonly DatasetKind Kind = DatasetRegistry.Default.Get("audio_folder");

    public void Dispose() => _files.Dispose();

    private DataSpec Spec(int rate = 16000, string? labels = null, string label = "label") => new()
    {
        Dataset = "audio_folder", Path = _files.Root, EvalSplit = "test", LabelColumn = label,
        Preprocessing = new PreprocessSpec { SamplingRate = rate }, Labels = labels?.Split(',').ToList(),
    };

    [Fact]
    public void ClassFoldersOfAnyEncodingAreMixedToMonoResampledAndNormalised()
    {
        _files.Wav("train/no/a.wav", DataFiles.Tone(440, 8000, 0.25), 8000, bits: 16);
        _files.Wav("train/no/b.wav", DataFiles.Tone(440, 22050, 0.1, channels: 2), 22050, bits: 24);
        _files.Wav("train/yes/c.wav", DataFiles.Tone(220, 16000, 0.2), 16000, isFloat: true, bits: 32);
        _files.Wav("test/no/d.wav", DataFiles.Tone(440, 16000, 0.1), 16000);
        _files.Wav("test/yes/e.wav", DataFiles.Tone(220, 16000, 0.1), 16000);
        Assert.Empty(Kind.Validate(Spec()));
        var train = (AudioFolderDataset)Kind.Open(Spec(), "train");
        Assert.Equal(["no", "yes"], train.ClassNames);
        Assert.Equal([0, 0, 1], Enumerable.Range(0, 3).Select(train.Label));

        var batch = train.GetBatch([0, 1]);
        var x = batch["input_values"];
        var mask = batch["attention_mask"];
        Assert.Equal([2L, 4000], x.shape); // 0.25 s at 8 kHz → 4,000 samples at 16 kHz, the longest
        Assert.Equal(4000, mask[0].sum().item<long>());
        Assert.Equal(1600, mask[1].sum().item<long>()); // 0.1 s of stereo 22.05 kHz → mono 16 kHz
        var first = x[0].data<float>().ToArray();
        Assert.Equal(0.0, first.Average(), 3); // normalised per clip
        Assert.Equal(1.0, Math.Sqrt(first.Select(v => (double)v * v).Average()), 2);

        var wav = WavReader.Read(_files["train/no/a.wav"]);
        var expected = new Wav2Vec2FeatureExtractor { SamplingRate = 16000, DoNormalize = true, ReturnAttentionMask = true }
            .Extract([new Resampler().Resample(wav.ToMono(), 8000, 16000)], 16000).InputValues;
        Assert.Equal(expected[0].data<float>().ToArray(), first);
        Assert.Equal(2, Kind.Open(Spec(), "test").Count);
        Assert.Equal([16000L], Kind.Inputs(Spec())[0].Shape);
    }

    [Fact]
    public void MetadataCsvListsFilesAndLabels()
    {
        _files.Wav("train/clips/a.wav", DataFiles.Tone(440, 16000, 0.1), 16000);
        _files.Wav("train/b.wav", DataFiles.Tone(220, 16000, 0.1), 16000);
        _files.Text("train/metadata.csv", "file_name,intent\nclips/a.wav,stop\nb.wav,go\n");
        _files.Wav("test/c.wav", DataFiles.Tone(220, 16000, 0.1), 16000);
        string metadata = _files.Text("test/metadata.csv", "file_name,intent\nc.wav,go\n");
        var spec = Spec(label: "intent");
        var train = (AudioFolderDataset)Kind.Open(spec, "train");
        Assert.Equal(["go", "stop"], train.ClassNames);
        Assert.Equal([1, 0], [train.Label(0), train.Label(1)]);
        Assert.Equal(0, Kind.Open(spec, "test").Label(0));

        _files.Text("test/metadata.csv", "file_name,intent\nc.wav,go\nmissing.wav,go\n");
        var e = Assert.Throws<InvalidInputException>(() => Kind.Open(spec, "test"));
        Assert.Contains($"{metadata}:3: file 'missing.wav' does not exist", e.Message);
        _files.Text("test/metadata.csv", "file_name,intent\nc.wav,pause\n");
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(spec, "test"));
        Assert.Contains($"{metadata}:2: label 'pause' is not a class", e.Message);
        _files.Text("test/metadata.csv", "file,intent\nc.wav,go\n");
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(spec, "test"));
        Assert.Contains($"{metadata}:1: no column 'file_name'", e.Message);
    }

    [Fact]
    public void UnsupportedEncodingsTruncatedFilesAndEmptyClassesNameTheFile()
    {
        _files.Wav("train/no/a.wav", DataFiles.Tone(440, 16000, 0.1), 16000);
        _files.Wav("train/yes/b.wav", DataFiles.Tone(220, 16000, 0.1), 16000);
        _files.Wav("test/no/c.wav", DataFiles.Tone(440, 16000, 0.1), 16000);
        _files.Wav("test/yes/d.wav", DataFiles.Tone(220, 16000, 0.1), 16000);
        string adpcm = _files.Wav("train/yes/adpcm.wav", DataFiles.Tone(220, 16000, 0.1), 16000, formatTag: 2);
        var e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "train"));
        Assert.Contains(adpcm, e.Message);
        Assert.Contains("unsupported sample format (format tag 2", e.Message);
        File.Delete(adpcm);

        var bytes = File.ReadAllBytes(_files["train/yes/b.wav"]);
        string cut = _files.Bytes("train/yes/cut.wav", bytes[..(bytes.Length - 100)]);
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "train"));
        Assert.Contains(cut, e.Message);
        Assert.Contains("truncated", e.Message);
        File.Delete(cut);

        Directory.CreateDirectory(_files["train/maybe"]);
        e = Assert.Throws<InvalidInputException>(() => Kind.Open(Spec(), "train"));
        Assert.Contains($"{_files["train/maybe"]}: class folder 'maybe' holds no WAV files", e.Message);
    }
}
