using Distill.Data.Transcripts;
using Distill.Models;
using Distill.Text;

namespace Distill.Data.Fsdd;

/// <summary>
/// <c>dataset: fsdd_words</c>: the FSDD clips of <see cref="FsddDataset"/> (same files, splits, resampling and batches)
/// with the spoken word as a transcript — "zero" … "nine", from the digit in the file name — for CTC. The vocabulary is
/// <c>data.vocab</c>, or the characters of the ten words (HF layout: 5 special tokens + 15 letters = 20).
/// </summary>
public sealed class FsddWordsDataset : IDataset
{
    /// <summary>The word spoken in the clips of each digit.</summary>
    public static IReadOnlyList<string> Words { get; } = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    private readonly FsddDataset _clips;
    private readonly int[][] _wordIds; // per digit

    private FsddWordsDataset(FsddDataset clips, CtcVocabulary vocabulary, int[][] wordIds)
    {
        _clips = clips;
        Vocabulary = vocabulary;
        _wordIds = wordIds;
    }

    public int Count => _clips.Count;

    public int NumClasses => Vocabulary.Count;

    IReadOnlyList<string> IDataset.ClassNames => Vocabulary.Tokens;

    public CtcVocabulary Vocabulary { get; }

    /// <summary>The digit (so class-balanced subsets stay balanced over the words).</summary>
    public int Label(int index) => _clips.Label(index);

    public string Transcript(int index) => Words[_clips.Label(index)];

    public string File(int index) => _clips.File(index);

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        var audio = _clips.GetBatch(indices);
        var digits = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++) digits[i] = _clips.Label(indices[i]);
        var positions = Enumerable.Range(0, digits.Length).ToArray();
        var labels = TranscriptLabels.Batch([.. digits.Select(d => _wordIds[d])], positions); // (B, S) int64, −100 padded
        return new Batch(audio.Inputs, labels);
    }

    /// <summary><c>data.vocab</c>, or the letters of the ten words.</summary>
    public static CtcVocabulary Vocab(IDataSettings spec) => spec.Vocab is { } given ? CtcVocabulary.Read(given) : CtcVocabulary.FromTranscripts(Words);

    public static FsddWordsDataset Open(IDataSettings spec, string split)
    {
        var vocabulary = Vocab(spec);
        string source = spec.Vocab ?? "the FSDD words";
        var ids = TranscriptLabels.Encode(Words, vocabulary, i => (source, $"{source} (the word '{Words[i]}' of digit {i})"));
        return new FsddWordsDataset(FsddDataset.Open(spec.Path, split), vocabulary, ids);
    }

    /// <summary>The registry entry for <c>dataset: fsdd_words</c>.</summary>
    public static DatasetKind Kind { get; } = new(
        "fsdd_words",
        FsddDataset.Kind.Splits,
        FsddDataset.Kind.Inputs,
        FsddDataset.Kind.Validate,
        Open,
        "Free Spoken Digit Dataset with the spoken word (zero..nine) as transcript, for CTC; splits and audio as fsdd")
    {
        Vocabulary = Vocab,
        OpenInputs = FsddDataset.Kind.OpenInputs,
        Reads = new HashSet<string>(StringComparer.Ordinal) { "vocab" },
    };
}
