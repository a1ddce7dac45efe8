using Distill.Models;
using Distill.Text;
using static TorchSharp.torch;

namespace Distill.Data.Sst2;

/// <summary>
/// SST-2 (Socher et al. 2013, binary sentence sentiment; GLUE task) from <c>train.tsv</c> and <c>dev.tsv</c>, each a header
/// line (<c>label&lt;TAB&gt;sentence</c> or <c>label&lt;TAB&gt;content</c>) then <c>0|1&lt;TAB&gt;text</c> rows, CRLF or LF.
/// dev.tsv writes brackets as PTB escapes (<c>-lrb-</c>, <c>-rrb-</c>, also <c>-lsb-</c>/<c>-rsb-</c>, <c>-lcb-</c>/<c>-rcb-</c>);
/// they are mapped back to <c>( ) [ ] { }</c> (<see cref="PtbBrackets"/>) so both splits tokenize alike. The same data reads
/// through <c>text_classification</c> with <c>rename_columns: {content: sentence}</c> and <c>text_unescape: ptb</c>. Every sentence is tokenized once at open
/// with a <see cref="BertTextTokenizer"/> (truncated to <c>max_length</c>); batches hold <c>input_ids</c>,
/// <c>token_type_ids</c>, <c>attention_mask</c> (B, T) padded to the batch's longest, and int64 labels (0 negative, 1 positive).
/// </summary>
public sealed class Sst2Dataset : IDataset
{
    private readonly string[] _texts;
    private readonly byte[] _labels;
    private readonly BertEncoding[] _encodings;
    private readonly BertTextTokenizer _tokenizer;

    private Sst2Dataset(string[] texts, byte[] labels, BertTextTokenizer tokenizer, int maxLength)
    {
        _texts = texts;
        _labels = labels;
        _tokenizer = tokenizer;
        _encodings = new BertEncoding[texts.Length];
        for (int i = 0; i < texts.Length; i++) _encodings[i] = tokenizer.Encode(texts[i], maxLength: maxLength);
    }

    public int Count => _labels.Length;

    public int NumClasses => 2;

    /// <summary>Class names in label order.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["negative", "positive"];

    IReadOnlyList<string> IDataset.ClassNames => ClassNames;

    public int Label(int index) => _labels[index];

    /// <summary>The sentence of example <paramref name="index"/> (PTB bracket escapes already mapped back).</summary>
    public string Text(int index) => _texts[index];

    /// <summary>The tokenized example (unpadded).</summary>
    public BertEncoding Encoding(int index) => _encodings[index];

    public BertTextTokenizer Tokenizer => _tokenizer;

    public Batch GetBatch(ReadOnlySpan<int> indices)
    {
        var encodings = new BertEncoding[indices.Length];
        var labels = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            encodings[i] = _encodings[indices[i]];
            labels[i] = _labels[indices[i]];
        }
        return new Batch(_tokenizer.ToTensors(encodings), TorchSharp.torch.tensor(labels)); // inputs (B, T), labels (B)
    }

    /// <summary>The registry entry for <c>dataset: sst2</c> (needs <c>data.tokenizer</c>; splits <c>train</c> and <c>dev</c>).</summary>
    public static DatasetKind Kind { get; } = new(
        "sst2",
        ["train", "dev"],
        spec =>
        [
            new InputSpec("input_ids", [spec.MaxLength], ScalarType.Int64),
            new InputSpec("token_type_ids", [spec.MaxLength], ScalarType.Int64),
            new InputSpec("attention_mask", [spec.MaxLength], ScalarType.Int64),
        ],
        Validate,
        (spec, split) => Open(spec.Path, split, BertTextTokenizer.FromFolder(spec.Tokenizer
            ?? throw new ArgumentException("data.tokenizer: sst2 needs a BERT tokenizer folder (with vocab.txt or tokenizer.json).")), spec.MaxLength),
        "SST-2 binary sentiment (GLUE), train.tsv 67,349 / dev.tsv 872 sentences, tokenized for BERT; needs data.tokenizer")
    {
        ClassNames = _ => ClassNames,
        OpenInputs = (spec, input, names) =>
        {
            // The text_classification reader (a CSV/TSV/JSONL column or plain lines); texts cleaned up as the splits' are.
            var tokenizer = BertTextTokenizer.FromFolder(spec.Tokenizer
                ?? throw new ArgumentException("data.tokenizer: sst2 needs a BERT tokenizer folder (with vocab.txt or tokenizer.json)."));
            var (data, rows) = TextClassification.TextClassificationDataset.OpenInputs(
                input, tokenizer, spec.MaxLength, spec.TextColumn ?? PredictColumn, null, names, PtbBrackets.Unescape);
            return (data, [.. rows.Select(r => r.Text)]);
        },
        Reads = new HashSet<string>(StringComparer.Ordinal) { "text_column" },
    };

    /// <summary>The column <c>distill predict</c> reads from a CSV/TSV/JSONL input without <c>data.text_column</c>: SST-2's (GLUE's) name.</summary>
    public const string PredictColumn = "sentence";

    private static IEnumerable<(string Key, string Message)> Validate(IDataSettings spec)
    {
        foreach (var (key, split) in spec.SplitKeys)
        {
            if (split is not ("train" or "dev")) { yield return (key, $"sst2 has splits 'train' and 'dev', not '{split}' (the labelled test set is not public); use 'dev' for evaluation"); continue; }
            string file = System.IO.Path.Combine(spec.Path, split + ".tsv");
            if (!File.Exists(file)) yield return ("path", $"'{spec.Path}' has no {split}.tsv (the {split} split of SST-2)");
        }
        if (spec.Tokenizer is null)
            yield return ("tokenizer", "sst2 needs a BERT tokenizer folder (vocab.txt or tokenizer.json, as saved by HF), e.g. the teacher's model folder");
        else if (!File.Exists(System.IO.Path.Combine(spec.Tokenizer, "vocab.txt")) && !File.Exists(System.IO.Path.Combine(spec.Tokenizer, "tokenizer.json")))
            yield return ("tokenizer", $"'{spec.Tokenizer}' has neither vocab.txt nor tokenizer.json");
        if (spec.MaxLength < 3) yield return ("max_length", "must be at least 3 ([CLS], one token, [SEP])");
    }

    /// <summary>Opens <c>{folder}/{split}.tsv</c> and tokenizes every sentence (truncated to <paramref name="maxLength"/> tokens).</summary>
    public static Sst2Dataset Open(string folder, string split, BertTextTokenizer tokenizer, int maxLength = 64)
    {
        if (split is not ("train" or "dev"))
            throw new ArgumentException($"sst2 has splits 'train' and 'dev', not '{split}'.", nameof(split));
        var rows = ReadTsv(System.IO.Path.Combine(folder, split + ".tsv"));
        return new Sst2Dataset(rows.Select(r => r.Text).ToArray(), rows.Select(r => (byte)r.Label).ToArray(), tokenizer, maxLength);
    }

    /// <summary>Reads an SST-2 tsv: header <c>label&lt;TAB&gt;…</c>, then label 0/1, a tab and the text. Errors give file and line.</summary>
    public static IReadOnlyList<(int Label, string Text)> ReadTsv(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: SST-2 file not found.", path);
        var rows = new List<(int, string)>();
        using var reader = new StreamReader(path, System.Text.Encoding.UTF8);
        string? header = reader.ReadLine(); // ReadLine strips \n and \r\n alike
        if (header is null || !header.StartsWith("label\t", StringComparison.Ordinal))
            throw new InvalidDataException($"{path}:1: expected a header 'label<TAB>sentence' (or 'label<TAB>content'), got '{header}'.");
        int lineNo = 1;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNo++;
            if (line.Length == 0) continue;
            int tab = line.IndexOf('\t');
            if (tab < 0) throw new InvalidDataException($"{path}:{lineNo}: no tab between label and text.");
            string label = line[..tab];
            if (label is not ("0" or "1"))
                throw new InvalidDataException($"{path}:{lineNo}: label '{label}' is not 0 or 1 (the first column is the label).");
            rows.Add((label[0] - '0', PtbBrackets.Unescape(line[(tab + 1)..])));
        }
        if (rows.Count == 0) throw new InvalidDataException($"{path}: no rows after the header.");
        return rows;
    }

    /// <summary>Label counts, for reports: (negative, positive).</summary>
    public (int Negative, int Positive) LabelCounts()
    {
        int positive = _labels.Count(l => l == 1);
        return (_labels.Length - positive, positive);
    }
}
