using System.Text.RegularExpressions;
using Distill.Audio;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Data.Fsdd;

/// <summary>
/// The Free Spoken Digit Dataset (Jakobovski et al., CC BY-SA 4.0): 8 kHz mono recordings named
/// <c>{digit}_{speaker}_{index}.wav</c>, label = digit. Official split: index 0–4 = <c>test</c>, 5–49 = <c>train</c>.
/// The folder may hold the wav files directly or in a <c>recordings/</c> subfolder (the origin repository's layout).
/// <para>
/// Every clip is read once when the split is opened (so a bad file fails at once, naming it), resampled to 16 kHz with
/// <see cref="Resampler"/> (wav2vec2's rate), and kept in memory (≈ 60 MB for the train split).
/// Batches come from <see cref="Wav2Vec2FeatureExtractor"/> with do_normalize and return_attention_mask: each clip is
/// normalised to zero mean / unit variance over its own samples ((x − μ)/√(σ² + 1e-7)), zero-padded to the longest
/// clip of the batch, and <c>attention_mask</c> (int32, 1 = real sample) marks the real samples — the HF recipe for
/// layer-norm wav2vec2 models, and what lets a "group"-norm model ignore padding too. Labels are int64 digits.
/// </para>
/// </summary>
public sealed partial class FsddDataset : IDataset
{
    /// <summary>The rate clips are resampled to (wav2vec2's).</summary>
    public const int TargetSamplingRate = 16000;

    /// <summary>
    /// The per-example length the dataset declares in its <see cref="InputSpec"/>s: one second at 16 kHz. Clips vary
    /// (0.14–2.3 s) and batches are padded to their longest, but shape probes (recipe validation, the distill stage's
    /// projector sizing) run the models on one synthetic example and need a concrete length that every conv stack
    /// of a usable model accepts.
    /// </summary>
    public const int ProbeSamples = TargetSamplingRate;

    private readonly float[][] _clips;
    private readonly int[] _labels;
    private readonly string[] _files;
    private readonly Wav2Vec2FeatureExtractor _extractor;

    private FsddDataset(float[][] clips, int[] labels, string[] files, int samplingRate)
    {
        _clips = clips;
        _labels = labels;
        _files = files;
        _extractor = Extractor(samplingRate);
    }

    /// <summary>The feature extractor of the batches: per-clip normalisation, padding to the longest clip, <c>attention_mask</c>.</summary>
    public static Wav2Vec2FeatureExtractor Extractor(int samplingRate = TargetSamplingRate) =>
        new() { SamplingRate = samplingRate, DoNormalize = true, ReturnAttentionMask = true };

    public int Count => _clips.Length;

    public int NumClasses => 10;

    IReadOnlyList<string> IDataset.ClassNames => Mnist.MnistDataset.ClassNames;

    public int Label(int index) => _labels[index];

    /// <summary>The file example <paramref name="index"/> was read from.</summary>
    public string File(int index) => _files[index];

    /// <summary>Length of example <paramref name="index"/> in samples at the dataset's sampling rate.</summary>
    public int Length(int index) => _clips[index].Length;

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        if (indices.Length == 0) throw new ArgumentException("fsdd: a batch needs at least one example index.");
        var clips = new float[indices.Length][];
        var labels = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            if ((uint)index >= (uint)_clips.Length)
                throw new ArgumentOutOfRangeException(nameof(indices), $"fsdd: index {index} is outside the split's {_clips.Length} examples.");
            clips[i] = _clips[index];
            labels[i] = _labels[index];
        }
        var features = _extractor.Extract(clips, _extractor.SamplingRate);
        var inputs = new Dictionary<string, Tensor>
        {
            ["input_values"] = features.InputValues,      // (B, L) float32
            ["attention_mask"] = features.AttentionMask!,  // (B, L) int32
        };
        return new Batch(inputs, torch.tensor(labels));
    }

    /// <summary>The registry entry for <c>dataset: fsdd</c>.</summary>
    public static DatasetKind Kind { get; } = new(
        "fsdd",
        ["train", "test"],
        _ => [new InputSpec("input_values", [ProbeSamples], ScalarType.Float32), new InputSpec("attention_mask", [ProbeSamples], ScalarType.Int32)],
        Validate,
        (spec, split) => Open(spec.Path, split),
        "Free Spoken Digit Dataset: spoken digits 0-9, 8 kHz wav resampled to 16 kHz; train = index 5-49, test = index 0-4 (variable length, padded per batch)")
    {
        ClassNames = _ => Mnist.MnistDataset.ClassNames,
        OpenInputs = (_, input, names) =>
        {
            // The audio_folder reader: any WAV encoding and rate, mixed to mono and resampled to 16 kHz as the splits are.
            var data = AudioFolder.AudioFolderDataset.OpenInputs(input, Extractor(), names);
            return (data, [.. Enumerable.Range(0, data.Count).Select(data.File)]);
        },
    };

    [GeneratedRegex(@"^(?<digit>[0-9])_(?<speaker>[A-Za-z]+)_(?<index>[0-9]+)\.wav$")]
    private static partial Regex FileNamePattern();

    private static IEnumerable<(string Key, string Message)> Validate(IDataSettings spec)
    {
        foreach (var (key, split) in spec.SplitKeys)
            if (split is not ("train" or "test"))
                yield return (key, $"fsdd has splits 'train' (index 5-49) and 'test' (index 0-4), not '{split}'");
        if (RecordingsFolder(spec.Path) is null)
            yield return ("path", $"'{spec.Path}' holds no .wav files (directly or in recordings/); point it at the FSDD recordings");
        if (spec.Mean is not null || spec.Std is not null)
            yield return ("preprocessing", "fsdd normalises each clip to zero mean and unit variance itself; remove mean and std");
    }

    private static string? RecordingsFolder(string dir)
    {
        if (!Directory.Exists(dir)) return null;
        if (Directory.EnumerateFiles(dir, "*.wav").Any()) return dir;
        string sub = Path.Combine(dir, "recordings");
        return Directory.Exists(sub) && Directory.EnumerateFiles(sub, "*.wav").Any() ? sub : null;
    }

    /// <summary>Opens a split ("train" or "test") of the recordings under <paramref name="dir"/>, resampled to <paramref name="samplingRate"/> Hz.</summary>
    public static FsddDataset Open(string dir, string split, int samplingRate = TargetSamplingRate)
    {
        if (split is not ("train" or "test"))
            throw new ArgumentException($"fsdd: unknown split '{split}'; use 'train' (index 5-49) or 'test' (index 0-4).");
        string folder = RecordingsFolder(dir)
            ?? throw new DirectoryNotFoundException($"fsdd: '{dir}' holds no .wav files (directly or in recordings/).");
        var resampler = new Resampler();
        var clips = new List<float[]>();
        var labels = new List<int>();
        var files = new List<string>();
        foreach (string path in Directory.EnumerateFiles(folder, "*.wav").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(path);
            var m = FileNamePattern().Match(name);
            if (!m.Success)
                throw new InvalidDataException($"{path}: FSDD file names must be {{digit}}_{{speaker}}_{{index}}.wav (for example 7_jackson_32.wav); rename or remove this file.");
            int index = int.Parse(m.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture);
            bool isTest = index <= 4;
            if (isTest != (split == "test")) continue;
            var wav = WavReader.Read(path);
            if (wav.Length == 0) throw new InvalidDataException($"{path}: the recording has no samples.");
            clips.Add(resampler.Resample(wav.ToMono(), wav.SampleRate, samplingRate));
            labels.Add(m.Groups["digit"].Value[0] - '0');
            files.Add(path);
        }
        if (clips.Count == 0) throw new InvalidDataException($"fsdd: '{folder}' has no recordings of the {split} split (index {(split == "test" ? "0-4" : "5-49")}).");
        return new FsddDataset(clips.ToArray(), labels.ToArray(), files.ToArray(), samplingRate);
    }
}
