using System.Text;
using System.Text.Json;
using nietras.SeparatedValues;

namespace Distill.Data.TextClassification;

/// <summary>
/// Reads the examples of a text table: CSV (<c>.csv</c>), TSV (<c>.tsv</c>) or JSON Lines (<c>.jsonl</c>), UTF-8 with or
/// without a byte-order mark, LF or CRLF line ends. CSV and TSV have a header line naming the columns; fields may be
/// quoted (<c>"…"</c>, a quote inside doubled), so they can hold the separator and line breaks, as RFC 4180 and pandas
/// read them. The fields are split by Sep (a maintained, RFC 4180 separated-values reader that tracks the line each row
/// starts on, so errors name the line even after quoted line breaks); quotes are removed here, strictly, so that an
/// unclosed quote (which would silently swallow the rest of the file) is an error naming its line. JSON Lines: one
/// object per line, blank lines skipped; the text is a JSON string, the label a string or an integer.
/// Every problem is an <see cref="InvalidInputException"/> naming the file, the line and the fix.
/// </summary>
public static class TextTable
{
    /// <summary>The file extensions a split may have, in the order they are looked for.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".csv", ".tsv", ".jsonl"];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The file of <paramref name="split"/> in <paramref name="folder"/>: <c>&lt;split&gt;.csv</c>, <c>.tsv</c> or
    /// <c>.jsonl</c>; null when there is none; an error when there are several (which one is meant is unclear).
    /// </summary>
    public static string? Locate(string folder, string split)
    {
        var found = Extensions.Select(e => Path.Combine(folder, split + e)).Where(File.Exists).ToList();
        if (found.Count > 1)
            throw new InvalidInputException(folder,
                $"{folder}: holds {string.Join(" and ", found.Select(Path.GetFileName))} for the {split} split; keep one of them.");
        return found.Count == 1 ? found[0] : null;
    }

    /// <summary>
    /// Reads every row of <paramref name="path"/>. <paramref name="labelColumn"/> null reads unlabelled rows (for
    /// <c>distill predict</c>); otherwise every row needs a non-empty label.
    /// </summary>
    /// <param name="textKey">The recipe key that names <paramref name="textColumn"/>, for errors.</param>
    /// <param name="pairKey">The recipe key (or, without '_', the fixed column name) behind <paramref name="pairColumn"/>, for errors.</param>
    /// <param name="rename">Columns read under another name (<c>data.rename_columns</c>): header name or JSON key → the name the other parameters use.</param>
    public static IReadOnlyList<TextRow> Read(string path, string textColumn, string? pairColumn, string? labelColumn, string textKey = "text_column", string pairKey = "text_pair_column",
        IReadOnlyDictionary<string, string>? rename = null)
    {
        var rows = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase)
            ? ReadJsonLines(path, textColumn, pairColumn, labelColumn, textKey, pairKey, rename)
            : ReadSeparated(path, path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',', textColumn, pairColumn, labelColumn, textKey, pairKey, rename);
        return NotEmpty(rows, path);
    }

    private static List<TextRow> NotEmpty(List<TextRow> rows, string path)
    {
        if (rows.Count == 0)
            throw new InvalidInputException(path, $"{path}: the split is empty (no rows{(path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ? "" : " after the header")}); add examples or point the split elsewhere.");
        return rows;
    }

    /// <summary>The labels of every row, as written (to collect the classes of a training split).</summary>
    public static IReadOnlyList<string> ReadLabels(string path, string labelColumn, IReadOnlyDictionary<string, string>? rename = null) =>
        NotEmpty(path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase)
            ? ReadJsonLines(path, null, null, labelColumn, rename: rename)
            : ReadSeparated(path, path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',', null, null, labelColumn, rename: rename), path)
        .Select(r => r.Label!).ToList();

    /// <summary>The name a header column or JSON key is read under.</summary>
    private static string Renamed(string name, IReadOnlyDictionary<string, string>? rename) =>
        rename is not null && rename.TryGetValue(name, out var to) ? to : name;

    /// <summary>How an error names the setting behind a column: <c>data.text_column</c>, or a fixed column name.</summary>
    private static string Named(string key) => key.Contains('_') ? $"data.{key}" : $"the {key} column";

    private static StreamReader OpenText(string path)
    {
        try
        {
            return new StreamReader(path, StrictUtf8, detectEncodingFromByteOrderMarks: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(path, $"{path}: cannot be read ({e.Message}).", e);
        }
    }

    private static InvalidInputException NotUtf8(string path, int line, Exception e) =>
        new(path, $"{path}:{line}: the file is not UTF-8 text ({e.Message}); save it as UTF-8.", e);

    private static List<TextRow> ReadSeparated(string path, char separator, string? textColumn, string? pairColumn, string? labelColumn, string textKey = "text_column", string pairKey = "text_pair_column",
        IReadOnlyDictionary<string, string>? rename = null)
    {
        string kind = separator == '\t' ? "TSV" : "CSV";
        var rows = new List<TextRow>();
        int line = 1;
        try
        {
            using var text = OpenText(path);
            SepReader reader;
            try
            {
                reader = Sep.New(separator).Reader(o => o with { HasHeader = true, DisableColCountCheck = true }).From(text);
            }
            catch (ArgumentException e) when (e is not DecoderFallbackException)
            {
                throw new InvalidInputException(path, $"{path}:1: the header line is not usable: {e.Message}; give every column a distinct name.", e);
            }
            using (reader)
            {
                if (reader.Header.IsEmpty)
                    throw new InvalidInputException(path, $"{path}: the file is empty; a {kind} file starts with a header line naming its columns (e.g. {string.Join(separator == '\t' ? "<TAB>" : ",", new[] { textColumn ?? "text", labelColumn ?? "label" })}).");
                var written = reader.Header.ColNames.Select(n => Unquote(n, path, 1)).ToList();
                var names = written.Select(n => Renamed(n, rename)).ToList();
                for (int c = 0; c < names.Count; c++)
                    if (names.IndexOf(names[c]) < c)
                        throw new InvalidInputException(path,
                            $"{path}:1: columns '{written[names.IndexOf(names[c])]}' and '{written[c]}' are both read as '{names[c]}' (data.rename_columns); rename only one of them.");
                int Column(string? name, string key)
                {
                    if (name is null) return -1;
                    int index = names.IndexOf(name);
                    if (index < 0)
                        throw new InvalidInputException(path,
                            $"{path}:1: no column '{name}' ({Named(key)}); the header has {string.Join(", ", names.Select(n => $"'{n}'"))}. " +
                            (key.Contains('_') ? $"Set data.{key} to one of them or fix the header." : "Fix the header."));
                    return index;
                }
                int textIndex = Column(textColumn, textKey), pairIndex = Column(pairColumn, pairKey), labelIndex = Column(labelColumn, "label_column");
                foreach (var row in reader)
                {
                    line = row.LineNumberFrom;
                    if (row.ColCount == 1 && row.Span.Length == 0) continue; // a blank line
                    for (int c = 0; c < row.ColCount; c++) Unquote(row[c].ToString(), path, line); // an unclosed quote swallows separators: name it first
                    if (row.ColCount != names.Count)
                        throw new InvalidInputException(path,
                            $"{path}:{line}: this row has {row.ColCount} field(s) but the header has {names.Count}; quote fields that contain '{(separator == '\t' ? "\\t" : ",")}' or a line break (\"like, this\").");
                    string? body = textIndex < 0 ? null : Unquote(row[textIndex].ToString(), path, line);
                    string? pair = pairIndex < 0 ? null : Unquote(row[pairIndex].ToString(), path, line);
                    string? label = labelIndex < 0 ? null : Unquote(row[labelIndex].ToString(), path, line);
                    if (labelColumn is not null && string.IsNullOrWhiteSpace(label))
                        throw new InvalidInputException(path, $"{path}:{line}: the label (column '{labelColumn}') is empty; give every row a label or remove the row.");
                    rows.Add(new TextRow(line, body ?? "", pair, label?.Trim()));
                }
            }
        }
        catch (DecoderFallbackException e)
        {
            throw NotUtf8(path, line, e);
        }
        return rows;
    }

    /// <summary>
    /// A field as written, without its quotes: a field that starts with <c>"</c> must end with one and double every quote
    /// inside; any other field is taken literally (so <c>5" screen</c> stays as it is).
    /// </summary>
    private static string Unquote(string raw, string path, int line)
    {
        if (raw.Length == 0 || raw[0] != '"') return raw;
        if (raw.Length < 2 || raw[^1] != '"' || !DoubledOnly(raw.AsSpan(1, raw.Length - 2)))
            throw new InvalidInputException(path,
                $"{path}:{line}: a quoted field is not closed properly (it starts with \" but no matching \" ends it before the next separator; a quote inside a quoted field is written twice: \"say \"\"hi\"\"\").");
        return raw[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal);
    }

    private static bool DoubledOnly(ReadOnlySpan<char> inner)
    {
        for (int i = 0; i < inner.Length; i++)
        {
            if (inner[i] != '"') continue;
            if (i + 1 >= inner.Length || inner[i + 1] != '"') return false;
            i++;
        }
        return true;
    }

    /// <summary>The value of the key read as <paramref name="name"/>: the key itself, or one that <paramref name="rename"/> maps to it.</summary>
    private static bool TryGet(JsonElement obj, string name, IReadOnlyDictionary<string, string>? rename, out JsonElement value)
    {
        foreach (var p in obj.EnumerateObject())
            if (Renamed(p.Name, rename) == name) { value = p.Value; return true; }
        value = default;
        return false;
    }

    private static List<TextRow> ReadJsonLines(string path, string? textColumn, string? pairColumn, string? labelColumn, string textKey = "text_column", string pairKey = "text_pair_column",
        IReadOnlyDictionary<string, string>? rename = null)
    {
        var rows = new List<TextRow>();
        int line = 0;
        try
        {
            using var reader = OpenText(path);
            for (string? text = reader.ReadLine(); text is not null; text = reader.ReadLine())
            {
                line++;
                if (string.IsNullOrWhiteSpace(text)) continue;
                JsonDocument doc;
                try { doc = JsonDocument.Parse(text); }
                catch (JsonException e)
                {
                    throw new InvalidInputException(path, $"{path}:{line}: not a JSON object ({e.Message}); JSON Lines holds one object per line.", e);
                }
                using (doc)
                {
                    if (doc.RootElement.ValueKind != JsonValueKind.Object)
                        throw new InvalidInputException(path, $"{path}:{line}: expected a JSON object such as {{\"{textColumn ?? "text"}\": \"…\", \"{labelColumn ?? "label"}\": …}}, got a {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
                    string? Text(string? key, string recipeKey)
                    {
                        if (key is null) return null;
                        if (!TryGet(doc.RootElement, key, rename, out var v))
                            throw new InvalidInputException(path,
                                $"{path}:{line}: no key '{key}' ({Named(recipeKey)}); this object has {string.Join(", ", doc.RootElement.EnumerateObject().Select(p => $"'{p.Name}'"))}.");
                        return v.ValueKind == JsonValueKind.String
                            ? v.GetString()
                            : throw new InvalidInputException(path, $"{path}:{line}: '{key}' is a {v.ValueKind.ToString().ToLowerInvariant()}, not a string.");
                    }
                    string? label = null;
                    if (labelColumn is not null)
                    {
                        if (!TryGet(doc.RootElement, labelColumn, rename, out var v))
                            throw new InvalidInputException(path,
                                $"{path}:{line}: no key '{labelColumn}' (data.label_column); this object has {string.Join(", ", doc.RootElement.EnumerateObject().Select(p => $"'{p.Name}'"))}.");
                        label = v.ValueKind switch
                        {
                            JsonValueKind.String => v.GetString(),
                            JsonValueKind.Number when v.TryGetInt64(out long k) => k.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            _ => throw new InvalidInputException(path,
                                $"{path}:{line}: the label '{labelColumn}' is {v.GetRawText()}; a label is a string or an integer."),
                        };
                        if (string.IsNullOrWhiteSpace(label))
                            throw new InvalidInputException(path, $"{path}:{line}: the label '{labelColumn}' is empty; give every line a label or remove the line.");
                    }
                    rows.Add(new TextRow(line, Text(textColumn, textKey) ?? "", Text(pairColumn, pairKey), label?.Trim()));
                }
            }
        }
        catch (DecoderFallbackException e)
        {
            throw NotUtf8(path, Math.Max(1, line), e);
        }
        return rows;
    }
}
