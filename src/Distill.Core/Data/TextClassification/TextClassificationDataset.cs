using Distill.Models;
using Distill.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Data.TextClassification;

/// <summary>
/// <c>dataset: text_classification</c>: a text table per split, <c>&lt;path&gt;/&lt;split&gt;.csv|tsv|jsonl</c> (read by
/// <see cref="TextTable"/>), with the text in <c>text_column</c>, optionally a second text in <c>text_pair_column</c>
/// (encoded as <c>[CLS] a [SEP] b [SEP]</c>), and the label in <c>label_column</c>. The classes are the recipe's
/// <c>labels</c>, or the labels of the training split sorted (see <see cref="ClassLabels"/>); a label that is not a
/// class is an error naming its file and line. Every text is tokenized once at open with the recipe's tokenizer,
/// truncated to <c>max_length</c>, exactly as <c>sst2</c> does; batches are padded to their longest example.
/// </summary>
public sealed class TextClassificationDataset : IDataset
{
    private readonly BertEncoding[] _encodings;
    private readonly int[] _labels;
    private readonly BertTextTokenizer _tokenizer;

    private TextClassificationDataset(BertEncoding[] encodings, int[] labels, IReadOnlyList<string> classNames, BertTextTokenizer tokenizer)
    {
        _encodings = encodings;
        _labels = labels;
        ClassNames = classNames;
        _tokenizer = tokenizer;
    }

    public int Count => _encodings.Length;

    public int NumClasses => ClassNames.Count;

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The label of an example; −1 for unlabelled inputs (<c>distill predict</c>).</summary>
    public int Label(int index) => _labels[index];

    /// <summary>The tokenized example (unpadded).</summary>
    public BertEncoding Encoding(int index) => _encodings[index];

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        if (indices.Length == 0) throw new ArgumentException("text_classification: a batch needs at least one example index.");
        var encodings = new BertEncoding[indices.Length];
        for (int i = 0; i < indices.Length; i++) encodings[i] = _encodings[indices[i]];
        return new Batch(_tokenizer.ToTensors(encodings), ClassLabels.BatchLabels(_labels, indices)); // inputs (B, T), labels (B)
    }

    /// <summary>The registry entry for <c>dataset: text_classification</c>.</summary>
    public static DatasetKind Kind { get; } = new(
        "text_classification",
        [],
        spec =>
        [
            new InputSpec("input_ids", [spec.MaxLength], ScalarType.Int64),
            new InputSpec("token_type_ids", [spec.MaxLength], ScalarType.Int64),
            new InputSpec("attention_mask", [spec.MaxLength], ScalarType.Int64),
        ],
        Validate,
        (spec, split) => Open(spec, split),
        "your text classification data: <path>/<split>.csv|tsv|jsonl with text_column (+ text_pair_column) and label_column; needs data.tokenizer")
    {
        ClassNames = spec => Classes(spec).Names,
        OpenInputs = (spec, input, names) =>
        {
            var (data, rows) = OpenInputs(spec, input, names);
            return (data, [.. rows.Select(r => r.Pair is null ? r.Text : $"{r.Text} [SEP] {r.Pair}")]);
        },
        Reads = new HashSet<string>(StringComparer.Ordinal) { "text_column", "text_pair_column", "label_column", "labels", "rename_columns", "text_unescape" },
    };

    private static IEnumerable<(string Key, string Message)> Validate(IDataSettings spec)
    {
        if (string.IsNullOrEmpty(spec.TextColumn))
            yield return ("text_column", "text_classification needs the column holding the text, e.g. text_column: sentence");
        if (spec.TextPairColumn is { } pair && pair == spec.TextColumn)
            yield return ("text_pair_column", $"is the same column as text_column ('{pair}'); give the second text's column or remove it");
        if (spec.LabelColumn.Length == 0) yield return ("label_column", "give the column holding the label");
        foreach (var (key, split) in spec.SplitKeys)
        {
            string? file = null, problem = null;
            try { file = TextTable.Locate(spec.Path, split); }
            catch (InvalidInputException e) { problem = e.Message; }
            if (problem is not null) yield return ("path", problem);
            else if (file is null)
                yield return (key, $"'{spec.Path}' has no {split}.csv, {split}.tsv or {split}.jsonl for the {split} split");
        }
        if (spec.Tokenizer is null)
            yield return ("tokenizer", "text_classification needs a BERT tokenizer folder (vocab.txt or tokenizer.json, as saved by HF), e.g. the teacher's model folder");
        else if (!File.Exists(Path.Combine(spec.Tokenizer, "vocab.txt")) && !File.Exists(Path.Combine(spec.Tokenizer, "tokenizer.json")))
            yield return ("tokenizer", $"'{spec.Tokenizer}' has neither vocab.txt nor tokenizer.json");
        if (spec.Mean is not null || spec.Std is not null)
            yield return ("preprocessing", "text_classification has no pixels to normalise; remove mean and std");
    }

    /// <summary>The file of a split; an error naming the folder and the names looked for when there is none.</summary>
    public static string SplitFile(IDataSettings spec, string split) =>
        TextTable.Locate(spec.Path, split) ?? throw new InvalidInputException(spec.Path,
            $"{spec.Path}: no {split}.csv, {split}.tsv or {split}.jsonl for the {split} split; add the file or change the split name.");

    /// <summary>The classes: the recipe's labels, or those of the training split (sorted).</summary>
    public static ClassLabels Classes(IDataSettings spec)
    {
        if (spec.Labels is { } names) return ClassLabels.Given(names);
        var labels = ClassLabels.Collect(TextTable.ReadLabels(SplitFile(spec, spec.TrainSplit), spec.LabelColumn, spec.RenameColumns));
        if (labels.Count < 2)
            throw new InvalidInputException(SplitFile(spec, spec.TrainSplit),
                $"{SplitFile(spec, spec.TrainSplit)}: every row has the label '{labels.Names[0]}'; a classifier needs at least two classes (or list them in data.labels).");
        return labels;
    }

    /// <summary>Opens a labelled split, tokenized with the recipe's tokenizer.</summary>
    public static TextClassificationDataset Open(IDataSettings spec, string split)
    {
        var tokenizer = BertTextTokenizer.FromFolder(spec.Tokenizer
            ?? throw new ArgumentException("data.tokenizer: text_classification needs a BERT tokenizer folder (with vocab.txt or tokenizer.json)."));
        var classes = Classes(spec);
        string file = SplitFile(spec, split);
        var rows = Cleaned(TextTable.Read(file, spec.TextColumn!, spec.TextPairColumn, spec.LabelColumn, rename: spec.RenameColumns), PtbBrackets.For(spec.TextUnescape));
        var labels = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
            if (!classes.TryGetId(rows[i].Label!, out labels[i]))
                throw new InvalidInputException(file,
                    $"{file}:{rows[i].Line}: label '{rows[i].Label}' is not a class: {classes.Describe()}. Fix the row, or add the class to data.labels.");
        return new TextClassificationDataset(Encode(rows, tokenizer, spec.MaxLength), labels, classes.Names, tokenizer);
    }

    /// <summary>
    /// Unlabelled texts for <c>distill predict</c>: a CSV/TSV/JSON Lines file (its <c>text_column</c>, and
    /// <c>text_pair_column</c> when the recipe has one) or any other file as plain text, one example per non-empty line.
    /// </summary>
    public static (TextClassificationDataset Data, IReadOnlyList<TextRow> Rows) OpenInputs(IDataSettings spec, string file, IReadOnlyList<string> classNames)
    {
        var tokenizer = BertTextTokenizer.FromFolder(spec.Tokenizer
            ?? throw new ArgumentException("data.tokenizer: text_classification needs a BERT tokenizer folder (with vocab.txt or tokenizer.json)."));
        return OpenInputs(file, tokenizer, spec.MaxLength, spec.TextColumn!, spec.TextPairColumn, classNames, PtbBrackets.For(spec.TextUnescape), spec.RenameColumns);
    }

    /// <summary>
    /// Unlabelled texts for <c>distill predict</c>: the <paramref name="textColumn"/> (and <paramref name="pairColumn"/>)
    /// of a CSV/TSV/JSON Lines file, or any other file as plain text, one example per non-empty line; each text mapped
    /// by <paramref name="normalise"/> (a preset's own clean-up of its training texts) before it is tokenized. The rows
    /// keep the texts as given.
    /// </summary>
    public static (TextClassificationDataset Data, IReadOnlyList<TextRow> Rows) OpenInputs(string file, BertTextTokenizer tokenizer, int maxLength,
        string textColumn, string? pairColumn, IReadOnlyList<string> classNames, Func<string, string>? normalise = null,
        IReadOnlyDictionary<string, string>? rename = null)
    {
        IReadOnlyList<TextRow> rows;
        if (TextTable.Extensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            rows = TextTable.Read(file, textColumn, pairColumn, null, rename: rename);
        else
        {
            var lines = File.ReadAllLines(file);
            rows = [.. lines.Select((text, i) => new TextRow(i + 1, text, null, null)).Where(r => r.Text.Trim().Length > 0)];
            if (rows.Count == 0) throw new InvalidInputException(file, $"{file}: no text (every line is empty); give one text per line.");
        }
        var encoded = Cleaned(rows, normalise);
        var data = new TextClassificationDataset(Encode(encoded, tokenizer, maxLength), [.. rows.Select(_ => -1)], classNames, tokenizer);
        return (data, rows);
    }

    /// <summary>The rows with <paramref name="normalise"/> applied to their texts (the rows themselves when null).</summary>
    private static IReadOnlyList<TextRow> Cleaned(IReadOnlyList<TextRow> rows, Func<string, string>? normalise) =>
        normalise is null ? rows : [.. rows.Select(r => r with { Text = normalise(r.Text), Pair = r.Pair is { } p ? normalise(p) : null })];

    private static BertEncoding[] Encode(IReadOnlyList<TextRow> rows, BertTextTokenizer tokenizer, int maxLength)
    {
        var encodings = new BertEncoding[rows.Count];
        for (int i = 0; i < rows.Count; i++) encodings[i] = tokenizer.Encode(rows[i].Text, rows[i].Pair, maxLength: maxLength);
        return encodings;
    }
}
