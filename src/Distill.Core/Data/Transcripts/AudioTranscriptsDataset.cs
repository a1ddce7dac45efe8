using Distill.Audio;
using Distill.Data.AudioFolder;
using Distill.Data.TextClassification;
using Distill.Models;
using Distill.Text;
using static TorchSharp.torch;

namespace Distill.Data.Transcripts;

/// <summary>
/// <c>dataset: audio_transcripts</c>: speech with text targets for CTC, in HF's audiofolder layout:
/// <c>&lt;path&gt;/&lt;split&gt;/metadata.csv</c> with the header <c>file_name,transcription</c> (file names relative
/// to the split folder) and the WAVs beside it. The clips are read, mixed to mono, resampled and batched exactly as
/// <c>audio_folder</c>'s (<see cref="AudioFolderDataset.Load"/>, <see cref="AudioFolderDataset.Extractor"/>: per-clip
/// normalisation, padding to the batch's longest clip, <c>attention_mask</c>). Labels are each transcript's ids in the
/// character vocabulary (<see cref="CtcVocabulary"/>: <c>data.vocab</c>, or built from the training split's
/// transcripts), padded with −100 (<see cref="TranscriptLabels"/>).
/// <para>Bad data fails when the split is opened, before training, naming the file and row: a missing column, a missing
/// file, an empty transcript, a character the given vocabulary lacks.</para>
/// </summary>
public sealed class AudioTranscriptsDataset : IDataset
{
    public const string FileColumn = "file_name";
    public const string TranscriptColumn = "transcription";

    private readonly string[] _files;
    private readonly float[][] _clips;
    private readonly string[] _transcripts;
    private readonly int[][] _ids;
    private readonly Wav2Vec2FeatureExtractor _extractor;

    private AudioTranscriptsDataset(string[] files, string[] transcripts, int[][] ids, CtcVocabulary vocabulary, Wav2Vec2FeatureExtractor extractor)
    {
        _files = files;
        _transcripts = transcripts;
        _ids = ids;
        Vocabulary = vocabulary;
        _extractor = extractor;
        var resampler = new Resampler();
        _clips = [.. files.Select(f => AudioFolderDataset.Load(f, extractor.SamplingRate, resampler))];
    }

    public int Count => _files.Length;

    /// <summary>The vocabulary size: the width of a CTC head's logits.</summary>
    public int NumClasses => Vocabulary.Count;

    IReadOnlyList<string> IDataset.ClassNames => Vocabulary.Tokens;

    public CtcVocabulary Vocabulary { get; }

    /// <summary>No class labels: every example counts as class 0 (class-balanced subsets take a plain seeded subset).</summary>
    public int Label(int index) => 0;

    public string Transcript(int index) => _transcripts[index];

    public string File(int index) => _files[index];

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        if (indices.Length == 0) throw new ArgumentException("audio_transcripts: a batch needs at least one example index.");
        var clips = new float[indices.Length][];
        for (int i = 0; i < indices.Length; i++) clips[i] = _clips[indices[i]];
        var features = _extractor.Extract(clips, _extractor.SamplingRate);
        var inputs = new Dictionary<string, Tensor> { ["input_values"] = features.InputValues }; // (B, L) float32
        if (features.AttentionMask is { } mask) inputs["attention_mask"] = mask;                  // (B, L) int32
        return new Batch(inputs, TranscriptLabels.Batch(_ids, indices));                          // (B, S) int64, −100 padded
    }

    /// <summary>The registry entry for <c>dataset: audio_transcripts</c>.</summary>
    public static DatasetKind Kind { get; } = new(
        "audio_transcripts",
        [],
        spec => AudioFolderDataset.Kind.Inputs(spec),
        Validate,
        (spec, split) => Open(spec, split),
        "your speech with transcripts (CTC): <path>/<split>/metadata.csv (file_name,transcription) and the WAVs beside it; a character vocabulary from data.vocab or the training transcripts")
    {
        Vocabulary = Vocab,
        OpenInputs = (spec, input, names) =>
        {
            var data = AudioFolderDataset.OpenInputs(spec, input, names);
            return (data, [.. Enumerable.Range(0, data.Count).Select(data.File)]);
        },
        Reads = new HashSet<string>(StringComparer.Ordinal) { "vocab", "preprocessing.sampling_rate", "preprocessing.processor" },
    };

    private static string MetadataPath(IDataSettings spec, string split) =>
        Path.Combine(ClassFolders.SplitFolder(spec.Path, split), AudioFolderDataset.MetadataFile);

    private static IEnumerable<(string Key, string Message)> Validate(IDataSettings spec)
    {
        foreach (var (key, split) in spec.SplitKeys)
            if (!System.IO.File.Exists(MetadataPath(spec, split)))
                yield return (key, $"'{spec.Path}' has no {MetadataPath(spec, split)} for the {split} split (a CSV with the header {FileColumn},{TranscriptColumn} and the WAVs beside it)");
        if (spec.Mean is not null || spec.Std is not null)
            yield return ("preprocessing", "audio_transcripts normalises each clip to zero mean and unit variance itself; remove mean and std");
    }

    /// <summary>The split's rows: (absolute WAV path, normalised transcript, where the row is for errors).</summary>
    private static List<(string File, string Transcript, string Where)> Rows(IDataSettings spec, string split)
    {
        string metadata = MetadataPath(spec, split);
        if (!System.IO.File.Exists(metadata))
            throw new InvalidInputException(metadata, $"{metadata}: not found; the {split} split of audio_transcripts is a metadata.csv ({FileColumn},{TranscriptColumn}) with the WAVs beside it.");
        string folder = ClassFolders.SplitFolder(spec.Path, split);
        var rows = new List<(string, string, string)>();
        foreach (var row in TextTable.Read(metadata, FileColumn, TranscriptColumn, null, FileColumn, TranscriptColumn))
        {
            string where = $"{metadata}:{row.Line}";
            string file = Path.GetFullPath(Path.Combine(folder, row.Text));
            if (row.Text.Length == 0 || !System.IO.File.Exists(file))
                throw new InvalidInputException(metadata, $"{where}: file '{row.Text}' does not exist ({FileColumn} is relative to {folder}); fix the row or add the file.");
            string transcript = CtcVocabulary.Normalize(row.Pair ?? "");
            if (transcript.Length == 0)
                throw new InvalidInputException(metadata, $"{where}: the {TranscriptColumn} of '{row.Text}' is empty; CTC needs at least one character per clip. Give it its transcript or remove the row.");
            rows.Add((file, transcript, where));
        }
        return rows;
    }

    /// <summary><c>data.vocab</c>, or the characters of the training split's transcripts.</summary>
    public static CtcVocabulary Vocab(IDataSettings spec) =>
        spec.Vocab is { } given ? CtcVocabulary.Read(given) : CtcVocabulary.FromTranscripts(Rows(spec, spec.TrainSplit).Select(r => r.Transcript));

    /// <summary>Opens a split: reads metadata.csv, encodes every transcript, decodes every clip (errors name the file and row).</summary>
    public static AudioTranscriptsDataset Open(IDataSettings spec, string split)
    {
        var extractor = AudioFolderDataset.Extractor(spec);
        var vocabulary = Vocab(spec);
        var rows = Rows(spec, split);
        string metadata = MetadataPath(spec, split);
        var ids = TranscriptLabels.Encode([.. rows.Select(r => r.Transcript)], vocabulary, i => (metadata, rows[i].Where));
        return new AudioTranscriptsDataset([.. rows.Select(r => r.File)], [.. rows.Select(r => r.Transcript)], ids, vocabulary, extractor);
    }
}
