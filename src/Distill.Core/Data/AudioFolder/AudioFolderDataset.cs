using Distill.Audio;
using Distill.Data.TextClassification;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Data.AudioFolder;

/// <summary>
/// <c>dataset: audio_folder</c>: the WAV files of a split, either in class folders,
/// <c>&lt;path&gt;/&lt;split&gt;/&lt;class&gt;/*.wav</c> (see <see cref="ClassFolders"/>), or listed in
/// <c>&lt;path&gt;/&lt;split&gt;/metadata.csv</c> with a <c>file_name</c> column (relative to the split folder) and the
/// label in <c>label_column</c> (HF's audiofolder layout; the file wins when both exist). WAV: integer PCM 8/16/24/32-bit
/// or IEEE float 32/64-bit, any rate and channel count (<see cref="WavReader"/>); channels are averaged to mono and the
/// clip resampled (<see cref="Resampler"/>) to the model's rate: <c>preprocessing.sampling_rate</c> (16 kHz by
/// default), or that of the HF <c>preprocessor_config.json</c> named by <c>preprocessing.processor</c>.
/// Batches come from a <see cref="Wav2Vec2FeatureExtractor"/> exactly as <c>fsdd</c>'s do (per-clip normalisation,
/// padding to the batch's longest clip, <c>attention_mask</c>), or from the named processor.
/// <para>Every file is decoded and resampled once when the split is opened (so an unsupported encoding or a truncated
/// file is an error naming it before training starts) and kept in memory, as <c>fsdd</c> does (16 kHz float: 64 KB per
/// second of audio, 230 MB per hour), so epochs do not resample again.</para>
/// </summary>
public sealed class AudioFolderDataset : IDataset
{
    /// <summary>The metadata file of a split, as HF's audiofolder names it.</summary>
    public const string MetadataFile = SplitMetadata.FileName;

    private const string What = "WAV files";

    private static readonly IReadOnlyList<string> Extensions = [".wav"];

    private readonly string[] _files;
    private readonly float[][] _clips;
    private readonly int[] _labels;
    private readonly Wav2Vec2FeatureExtractor _extractor;

    private AudioFolderDataset(string[] files, int[] labels, IReadOnlyList<string> classNames, Wav2Vec2FeatureExtractor extractor)
    {
        _files = files;
        _labels = labels;
        ClassNames = classNames;
        _extractor = extractor;
        var resampler = new Resampler();
        _clips = [.. files.Select(f => Load(f, extractor.SamplingRate, resampler))];
    }

    public int Count => _files.Length;

    public int NumClasses => ClassNames.Count;

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The label of an example; −1 for unlabelled inputs (<c>distill predict</c>).</summary>
    public int Label(int index) => _labels[index];

    /// <summary>The file example <paramref name="index"/> is read from.</summary>
    public string File(int index) => _files[index];

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        if (indices.Length == 0) throw new ArgumentException("audio_folder: a batch needs at least one example index.");
        var clips = new float[indices.Length][];
        for (int i = 0; i < indices.Length; i++) clips[i] = _clips[indices[i]];
        var features = _extractor.Extract(clips, _extractor.SamplingRate);
        var inputs = new Dictionary<string, Tensor> { ["input_values"] = features.InputValues }; // (B, L) float32
        if (features.AttentionMask is { } mask) inputs["attention_mask"] = mask;                  // (B, L) int32
        return new Batch(inputs, ClassLabels.BatchLabels(_labels, indices));
    }

    /// <summary>The registry entry for <c>dataset: audio_folder</c>.</summary>
    public static DatasetKind Kind { get; } = new(
        "audio_folder",
        [],
        spec =>
        {
            var extractor = Extractor(spec);
            int probe = extractor.SamplingRate; // one second: see FsddDataset.ProbeSamples
            return extractor.ReturnAttentionMask
                ? [new InputSpec("input_values", [probe], ScalarType.Float32), new InputSpec("attention_mask", [probe], ScalarType.Int32)]
                : [new InputSpec("input_values", [probe], ScalarType.Float32)];
        },
        Validate,
        (spec, split) => Open(spec, split),
        "your recordings: <path>/<split>/<class>/*.wav or <path>/<split>/metadata.csv (file_name,label); mixed to mono, resampled to the model's rate")
    {
        ClassNames = spec => Classes(spec).Names,
        OpenInputs = (spec, input, names) =>
        {
            var data = OpenInputs(spec, input, names);
            return (data, [.. Enumerable.Range(0, data.Count).Select(data.File)]);
        },
        Reads = new HashSet<string>(StringComparer.Ordinal) { "labels", "label_column", "preprocessing.sampling_rate", "preprocessing.processor" },
    };

    private static IEnumerable<(string Key, string Message)> Validate(IDataSettings spec)
    {
        foreach (var (key, split) in spec.SplitKeys)
            if (!Directory.Exists(ClassFolders.SplitFolder(spec.Path, split)))
                yield return (key, $"'{spec.Path}' has no folder '{split}' for the {split} split (expected {Path.Combine(spec.Path, split)}/<class>/<clip>.wav or {Path.Combine(spec.Path, split, MetadataFile)})");
        if (spec.Mean is not null || spec.Std is not null)
            yield return ("preprocessing", "audio_folder normalises each clip to zero mean and unit variance itself; remove mean and std");
        if (spec.Processor is not null)
        {
            string? problem = null;
            try { Extractor(spec); }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException) { problem = e.Message; }
            if (problem is not null) yield return ("preprocessing.processor", problem);
        }
    }

    /// <summary>The feature extractor: the named HF config, or fsdd's at <c>preprocessing.sampling_rate</c>.</summary>
    public static Wav2Vec2FeatureExtractor Extractor(IDataSettings spec)
    {
        if (spec.Processor is { } path)
        {
            string file = Directory.Exists(path) ? Path.Combine(path, "preprocessor_config.json") : path;
            return Wav2Vec2FeatureExtractor.FromJsonFile(file);
        }
        return new Wav2Vec2FeatureExtractor { SamplingRate = spec.SamplingRate, DoNormalize = true, ReturnAttentionMask = true };
    }

    /// <summary>The classes: the recipe's labels, else the training split's class folders or metadata labels (sorted).</summary>
    public static ClassLabels Classes(IDataSettings spec)
    {
        return SplitMetadata.Find(spec, spec.TrainSplit) is { } metadata
            ? SplitMetadata.Classes(spec, metadata)
            : ClassFolders.Classes(spec, Extensions, What);
    }

    /// <summary>Opens a split: lists its files and decodes each once (errors name the file, or metadata.csv and its line).</summary>
    public static AudioFolderDataset Open(IDataSettings spec, string split)
    {
        var extractor = Extractor(spec);
        var classes = Classes(spec);
        var files = new List<string>();
        var labels = new List<int>();
        if (SplitMetadata.Find(spec, split) is { } metadata)
        {
            foreach (var (file, id) in SplitMetadata.Files(spec, metadata, classes, Extensions))
            {
                files.Add(file);
                labels.Add(id);
            }
        }
        else
        {
            SplitMetadata.CheckConsistent(spec, split);
            ClassFolders.CheckSameClasses(spec, split, Extensions, What);
            foreach (var (file, cls) in ClassFolders.Files(spec.Path, split, Extensions, What))
            {
                if (!classes.TryGetId(cls, out int id))
                    throw new InvalidInputException(file, $"{file}: class folder '{cls}' is not a class: {classes.Describe()}.");
                files.Add(file);
                labels.Add(id);
            }
        }
        return new AudioFolderDataset([.. files], [.. labels], classes.Names, extractor);
    }

    /// <summary>Unlabelled clips for <c>distill predict</c>: one WAV file, or every WAV in a folder (recursively, ordinal order).</summary>
    public static AudioFolderDataset OpenInputs(IDataSettings spec, string input, IReadOnlyList<string> classNames) =>
        OpenInputs(input, Extractor(spec), classNames);

    /// <summary>
    /// Unlabelled clips for <c>distill predict</c>: one WAV file, or every WAV in a folder (recursively, ordinal order),
    /// each decoded, mixed to mono and resampled to <paramref name="extractor"/>'s rate once here (errors name the file).
    /// </summary>
    public static AudioFolderDataset OpenInputs(string input, Wav2Vec2FeatureExtractor extractor, IReadOnlyList<string> classNames)
    {
        var files = System.IO.File.Exists(input)
            ? [input]
            : Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
                .Where(f => f.EndsWith(".wav", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new InvalidInputException(input, $"{input}: holds no .wav files.");
        return new AudioFolderDataset([.. files], [.. files.Select(_ => -1)], classNames, extractor);
    }

    private static WavAudio Read(string file)
    {
        try
        {
            return WavReader.Read(file);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(file, $"{ErrorText.Of(e)} Convert it to PCM or float WAV (e.g. `sox in.wav -b 16 out.wav`) or remove it.", e);
        }
    }

    /// <summary>Decodes one WAV file, mixed to mono and resampled to <paramref name="rate"/> (errors name the file).</summary>
    public static float[] Load(string file, int rate, Resampler resampler)
    {
        var wav = Read(file);
        if (wav.Length == 0) throw new InvalidInputException(file, $"{file}: the recording has no samples; remove it.");
        return resampler.Resample(wav.ToMono(), wav.SampleRate, rate);
    }
}
