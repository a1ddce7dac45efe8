using Distill.Data;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>The dataset, its splits and pre-processing. Datasets read it through <see cref="IDataSettings"/>.</summary>
public sealed record DataSpec : IDataSettings
{
    private readonly string _evalSplit = "test";

    /// <summary>Dataset key (<c>mnist</c>, <c>text_classification</c>, ...).</summary>
    [RequiredKey] public string Dataset { get; init; } = "";

    /// <summary>Folder holding the dataset files, relative to the recipe's folder.</summary>
    [RequiredKey, ExistingPath(Folder = true)] public string Path { get; init; } = "";

    /// <summary>Split trained on.</summary>
    public string TrainSplit { get; init; } = "train";

    /// <summary>
    /// Split evaluated on (every <c>eval_every</c> steps and at the end of each stage). With <see cref="EvalSplits"/>
    /// this reads as its first entry, so code that knows one evaluation split sees the primary one.
    /// </summary>
    public string EvalSplit
    {
        get => EvalSplits is { Count: > 0 } splits ? splits[0] : _evalSplit;
        init => _evalSplit = value;
    }

    /// <summary>Several splits evaluated together; the first one is reported as <c>metrics</c> and chooses the best checkpoint. Not with <c>eval_split</c>.</summary>
    public List<string>? EvalSplits { get; init; }

    /// <summary>Use only the first N training examples (after a seeded shuffle); null = all.</summary>
    [Bounds(1, int.MaxValue)] public int? TrainLimit { get; init; }

    /// <summary>Use only the first N examples of each evaluation split (after a seeded shuffle); null = all.</summary>
    [Bounds(1, int.MaxValue)] public int? EvalLimit { get; init; }

    /// <summary>Evaluation-time batch size (no gradients, so larger than training's).</summary>
    [Bounds(1, 65536)] public int EvalBatchSize { get; init; } = 1000;

    /// <summary>
    /// Batches built ahead on a background thread while training and evaluation run on the current one (reading and
    /// decoding the next batches overlaps the step); 0 = off, each batch is built when its step starts. Same results either way.
    /// </summary>
    [Bounds(0, 64)] public int Prefetch { get; init; } = BatchPrefetcher.DefaultDepth;

    public PreprocessSpec Preprocessing { get; init; } = new();

    /// <summary>Text datasets: folder of the tokenizer (HF <c>vocab.txt</c> or <c>tokenizer.json</c>, optional <c>tokenizer_config.json</c>), relative to the recipe's folder.</summary>
    [ExistingPath(Folder = true)] public string? Tokenizer { get; init; }

    /// <summary>Text datasets: tokens per example including [CLS]/[SEP]; longer texts are truncated. Batches are padded to their longest example.</summary>
    [Bounds(3, 65536)] public int MaxLength { get; init; } = 64;

    /// <summary><c>text_classification</c>: the column (header name, or JSON key) holding the text.</summary>
    public string? TextColumn { get; init; }

    /// <summary><c>text_classification</c>: the column of the second text of sentence pairs; null = single texts.</summary>
    public string? TextPairColumn { get; init; }

    /// <summary>
    /// <c>text_classification</c>: columns (CSV/TSV header names, JSON keys) read under another name in every split, as HF
    /// datasets' <c>rename_columns</c> does; for files whose splits name a column differently (SST-2's train.tsv says
    /// <c>sentence</c>, its dev.tsv <c>content</c>: <c>{content: sentence}</c>). Null = none.
    /// </summary>
    public Dictionary<string, string>? RenameColumns { get; init; }

    /// <summary><c>text_classification</c>: a clean-up applied to every text before tokenization (<c>ptb</c>: Penn Treebank bracket escapes such as <c>-lrb-</c> back to brackets).</summary>
    public Text.TextUnescape TextUnescape { get; init; } = Text.TextUnescape.None;

    /// <summary><c>text_classification</c>, and <c>audio_folder</c>'s metadata.csv: the column holding the label.</summary>
    public string LabelColumn { get; init; } = "label";

    /// <summary><c>audio_transcripts</c>, <c>fsdd_words</c>: an HF <c>vocab.json</c> (or a folder holding one, such as an exported model) whose characters encode the transcripts; null = built from the training split's transcripts.</summary>
    [ExistingPath(FileOrFolder = true)] public string? Vocab { get; init; }

    /// <summary>Class names in label order; null = collected from the training split (sorted) and recorded in summary.json.</summary>
    public List<string>? Labels { get; init; }

    IReadOnlyList<string> IDataSettings.EvalSplitNames => EvalSplits is { Count: > 0 } splits ? splits : [EvalSplit];

    IReadOnlyList<(string Key, string Split)> IDataSettings.SplitKeys =>
        [("train_split", TrainSplit), .. EvalSplits is { Count: > 0 } splits
            ? splits.Select((s, i) => ($"eval_splits[{i}]", s))
            : [("eval_split", EvalSplit)]];

    IReadOnlyList<string>? IDataSettings.Labels => Labels;

    IReadOnlyDictionary<string, string> IDataSettings.RenameColumns => RenameColumns ?? [];

    IReadOnlyList<double>? IDataSettings.Mean => Preprocessing.Mean;

    IReadOnlyList<double>? IDataSettings.Std => Preprocessing.Std;

    (int Height, int Width)? IDataSettings.ImageSize => Preprocessing.Size switch
    {
        [var side] => (side, side),
        [var h, var w] => (h, w),
        _ => null,
    };

    int IDataSettings.Channels => Preprocessing.Channels;

    int IDataSettings.SamplingRate => Preprocessing.SamplingRate;

    string? IDataSettings.Processor => Preprocessing.Processor;
}
