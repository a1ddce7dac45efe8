using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Text;

/// <summary>
/// BERT's tokenizer with the exact behaviour of HuggingFace transformers' slow <c>BertTokenizer</c> (4.40), producing
/// <c>input_ids</c>, <c>token_type_ids</c> and <c>attention_mask</c> for single texts and pairs
/// (<c>[CLS] A [SEP]</c> / <c>[CLS] A [SEP] B [SEP]</c>, segment ids 0/1), with longest-first truncation and padding.
/// <para>
/// Why a wrapper: Microsoft.ML.Tokenizers' own basic tokenization differs from HF's on some inputs (it drops
/// <c>$</c>, <c>`</c> and emoji instead of treating them as punctuation/words, and treats tab, newline and the soft
/// hyphen differently). So this class does HF's <c>BasicTokenizer</c> itself — split off special tokens exactly as
/// written, per-character Python lower-casing, clean text (drop NUL, U+FFFD and control/format characters, map
/// whitespace to spaces), spaces around CJK ideographs, NFC, whitespace split, accent stripping (NFD minus
/// non-spacing marks) and splitting on every punctuation character (ASCII symbol ranges and Unicode P*) — and the
/// library's <see cref="BertTokenizer"/> does the WordPiece step (greedy longest match, <c>##</c> continuation,
/// words over 100 characters → <c>[UNK]</c>) on each resulting word.
/// </para>
/// </summary>
public sealed class BertTextTokenizer
{
    private const int MaxInputCharsPerWord = 100;

    private readonly BertTokenizer _wordPiece;
    private readonly string[] _idToToken;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly string[] _splitTokens; // special/added tokens, longest first (HF's trie prefers the longest match)
    // Word → WordPiece ids. Corpora repeat words a lot (SST-2: 67k sentences, ~15k distinct words), so this makes
    // tokenizing a dataset several times faster. Bounded so that an endless stream of new words cannot grow it forever.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]> _wordCache = new(StringComparer.Ordinal);
    private const int WordCacheLimit = 200_000;

    private BertTextTokenizer(IReadOnlyList<string> vocab, string source, bool doLowerCase, bool tokenizeChineseChars, bool? stripAccents,
        bool doBasicTokenize, string unk, string sep, string pad, string cls, string mask, IEnumerable<string> extraSplitTokens)
    {
        _idToToken = vocab.ToArray();
        _tokenToId = new Dictionary<string, int>(_idToToken.Length, StringComparer.Ordinal);
        for (int i = 0; i < _idToToken.Length; i++)
        {
            string t = _idToToken[i];
            if (t.Length == 0 || t.Any(char.IsWhiteSpace))
                throw new InvalidDataException($"{source}: vocabulary entry {i} ('{t}') is empty or contains whitespace; a WordPiece vocabulary has one non-blank token per id.");
            if (!_tokenToId.TryAdd(t, i))
                throw new InvalidDataException($"{source}: token '{t}' appears twice in the vocabulary (ids {_tokenToId[t]} and {i}); remove the duplicate.");
        }
        int Require(string token, string role) => _tokenToId.TryGetValue(token, out int id)
            ? id
            : throw new InvalidDataException($"{source}: the {role} token '{token}' is not in the vocabulary; fix the special tokens or use the matching vocab.");
        UnkTokenId = Require(unk, "unknown");
        SepTokenId = Require(sep, "separator");
        PadTokenId = Require(pad, "padding");
        ClsTokenId = Require(cls, "classification");
        MaskTokenId = Require(mask, "mask");
        var split = new HashSet<string>(StringComparer.Ordinal) { unk, sep, pad, cls, mask };
        foreach (var t in extraSplitTokens) { Require(t, "added"); split.Add(t); }
        _splitTokens = split.OrderByDescending(t => t.Length).ThenBy(t => t, StringComparer.Ordinal).ToArray();

        DoLowerCase = doLowerCase;
        TokenizeChineseChars = tokenizeChineseChars;
        StripAccents = stripAccents;
        DoBasicTokenize = doBasicTokenize;

        var text = new StringBuilder();
        foreach (var t in _idToToken) text.Append(t).Append('\n');
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text.ToString()));
        // Basic tokenization is done here (HF-exact); the library only maps single words to WordPiece ids.
        _wordPiece = BertTokenizer.Create(stream, new BertOptions
        {
            LowerCaseBeforeTokenization = false, ApplyBasicTokenization = false, SplitOnSpecialTokens = false,
            IndividuallyTokenizeCjk = false, RemoveNonSpacingMarks = false,
            UnknownToken = unk, SeparatorToken = sep, PaddingToken = pad, ClassificationToken = cls, MaskingToken = mask,
            MaxInputCharsPerWord = MaxInputCharsPerWord,
        });
        if (_wordPiece.ClassificationTokenId != ClsTokenId || _wordPiece.SeparatorTokenId != SepTokenId || _wordPiece.PaddingTokenId != PadTokenId)
            throw new InvalidDataException($"{source}: the WordPiece library read the vocabulary with different ids for the special tokens; the vocab file is not in the one-token-per-line format.");
    }

    /// <summary>Lower-case before tokenizing (<c>do_lower_case</c>); also strips accents unless <see cref="StripAccents"/> is false.</summary>
    public bool DoLowerCase { get; }

    /// <summary>Put spaces around CJK ideographs so each becomes its own word (<c>tokenize_chinese_chars</c>).</summary>
    public bool TokenizeChineseChars { get; }

    /// <summary>HF's <c>strip_accents</c>: null = follow <see cref="DoLowerCase"/>, true/false = always/never.</summary>
    public bool? StripAccents { get; }

    /// <summary>HF's <c>do_basic_tokenize</c>: false = WordPiece on whitespace-separated words only.</summary>
    public bool DoBasicTokenize { get; }

    public int VocabSize => _idToToken.Length;
    public int PadTokenId { get; }
    public int UnkTokenId { get; }
    public int ClsTokenId { get; }
    public int SepTokenId { get; }
    public int MaskTokenId { get; }

    /// <summary>The token string of an id.</summary>
    public string IdToToken(int id) => (uint)id < (uint)_idToToken.Length
        ? _idToToken[id]
        : throw new ArgumentOutOfRangeException(nameof(id), $"token id {id} is outside the vocabulary [0, {_idToToken.Length}).");

    /// <summary>The id of a token string, or null when it is not in the vocabulary.</summary>
    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out int id) ? id : null;

    // ------------------------------------------------------------------ loading

    /// <summary>
    /// Loads an HF tokenizer folder: <c>vocab.txt</c> (one token per line, id = line number) or, failing that,
    /// <c>tokenizer.json</c> (its <c>model.vocab</c> map). Settings come from <c>tokenizer_config.json</c>
    /// (<c>do_lower_case</c>, <c>tokenize_chinese_chars</c>, <c>strip_accents</c>, <c>do_basic_tokenize</c>, special
    /// tokens, <c>added_tokens_decoder</c>), else from tokenizer.json's BertNormalizer, else HF's defaults (lower-case on).
    /// </summary>
    public static BertTextTokenizer FromFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Tokenizer folder '{folder}' does not exist.");
        string vocabPath = Path.Combine(folder, "vocab.txt"), jsonPath = Path.Combine(folder, "tokenizer.json");
        string configPath = Path.Combine(folder, "tokenizer_config.json"), mapPath = Path.Combine(folder, "special_tokens_map.json");

        List<string> vocab;
        string source;
        JsonElement? normalizer = null;
        if (File.Exists(vocabPath))
        {
            source = vocabPath;
            vocab = File.ReadAllLines(vocabPath, Encoding.UTF8).ToList();
            if (File.Exists(jsonPath)) normalizer = ReadTokenizerJson(jsonPath).Normalizer;
        }
        else if (File.Exists(jsonPath))
        {
            source = jsonPath;
            (vocab, normalizer) = ReadTokenizerJson(jsonPath);
        }
        else throw new FileNotFoundException($"{folder}: no vocab.txt or tokenizer.json; a BERT tokenizer folder needs one of them (as written by HF save_pretrained).");

        bool doLowerCase = true, chinese = true, basic = true;
        bool? strip = null;
        if (normalizer is { ValueKind: JsonValueKind.Object } n)
        {
            if (n.TryGetProperty("lowercase", out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False) doLowerCase = v.GetBoolean();
            if (n.TryGetProperty("handle_chinese_chars", out v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False) chinese = v.GetBoolean();
            if (n.TryGetProperty("strip_accents", out v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False) strip = v.GetBoolean();
        }
        var specials = new Dictionary<string, string> { ["unk_token"] = "[UNK]", ["sep_token"] = "[SEP]", ["pad_token"] = "[PAD]", ["cls_token"] = "[CLS]", ["mask_token"] = "[MASK]" };
        var added = new List<string>();
        foreach (var path in new[] { mapPath, configPath }.Where(File.Exists))
        {
            using var doc = ParseJson(path);
            var root = doc.RootElement;
            foreach (var key in specials.Keys.ToList())
                if (root.TryGetProperty(key, out var v)) specials[key] = TokenContent(v, path, key);
            if (path != configPath) continue;
            doLowerCase = Bool(root, "do_lower_case", path) ?? doLowerCase;
            chinese = Bool(root, "tokenize_chinese_chars", path) ?? chinese;
            basic = Bool(root, "do_basic_tokenize", path) ?? basic;
            if (root.TryGetProperty("strip_accents", out var s))
                strip = s.ValueKind == JsonValueKind.Null ? null : Bool(root, "strip_accents", path);
            if (root.TryGetProperty("added_tokens_decoder", out var dec) && dec.ValueKind == JsonValueKind.Object)
                foreach (var entry in dec.EnumerateObject()) added.Add(TokenContent(entry.Value, path, $"added_tokens_decoder.{entry.Name}"));
        }
        return new BertTextTokenizer(vocab, source, doLowerCase, chinese, strip, basic,
            specials["unk_token"], specials["sep_token"], specials["pad_token"], specials["cls_token"], specials["mask_token"], added);
    }

    /// <summary>A tokenizer over a vocabulary list (id = index) with HF's default special tokens.</summary>
    public static BertTextTokenizer FromVocab(IReadOnlyList<string> vocab, bool doLowerCase = true, bool tokenizeChineseChars = true, bool? stripAccents = null) =>
        new(vocab, "vocabulary", doLowerCase, tokenizeChineseChars, stripAccents, true, "[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]", []);

    private static (List<string> Vocab, JsonElement? Normalizer) ReadTokenizerJson(string path)
    {
        using var doc = ParseJson(path);
        var root = doc.RootElement;
        if (!root.TryGetProperty("model", out var model) || !model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: no model.vocab object; only WordPiece tokenizer.json files (BERT) are supported.");
        if (model.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() != "WordPiece")
            throw new InvalidDataException($"{path}: model.type is '{type.GetString()}', but BERT needs a WordPiece tokenizer.");
        var byId = new SortedDictionary<int, string>();
        foreach (var entry in vocab.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw new InvalidDataException($"{path}: model.vocab['{entry.Name}'] is not a non-negative integer id.");
            if (!byId.TryAdd(id, entry.Name))
                throw new InvalidDataException($"{path}: model.vocab gives id {id} to both '{byId[id]}' and '{entry.Name}'.");
        }
        int expected = 0;
        foreach (int id in byId.Keys)
            if (id != expected++) throw new InvalidDataException($"{path}: model.vocab ids are not contiguous (id {expected - 1} is missing).");
        JsonElement? normalizer = root.TryGetProperty("normalizer", out var nz) && nz.ValueKind == JsonValueKind.Object ? nz.Clone() : null;
        return (byId.Values.ToList(), normalizer);
    }

    private static JsonDocument ParseJson(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}", e); }
    }

    private static string TokenContent(JsonElement v, string path, string key) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString()!,
        JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString()!,
        _ => throw new InvalidDataException($"{path}: '{key}' must be a token string or an object with a 'content' string."),
    };

    private static bool? Bool(JsonElement root, string key, string path)
    {
        if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean()
            : throw new InvalidDataException($"{path}: '{key}' must be true or false, not {v.GetRawText()}.");
    }

    // ------------------------------------------------------------------ tokenization

    /// <summary>WordPiece tokens of <paramref name="text"/>, without [CLS]/[SEP] (HF <c>tokenize</c>).</summary>
    public IReadOnlyList<string> Tokenize(string text) => EncodeToIds(text).Select(IdToToken).ToList();

    /// <summary>Token ids of <paramref name="text"/>, without [CLS]/[SEP].</summary>
    public IReadOnlyList<int> EncodeToIds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        int start = 0;
        while (start <= text.Length)
        {
            var (at, special) = FindSplitToken(text, start);
            string piece = text[start..(at < 0 ? text.Length : at)];
            foreach (var word in BasicTokenize(piece)) AddWordPieces(word, ids);
            if (at < 0) break;
            ids.Add(_tokenToId[special!]);
            start = at + special!.Length;
        }
        return ids;
    }

    /// <summary>The leftmost occurrence of a special token at or after <paramref name="start"/> (longest wins at a position).</summary>
    private (int At, string? Token) FindSplitToken(string text, int start)
    {
        int best = -1;
        string? bestToken = null;
        foreach (var t in _splitTokens)
        {
            int i = text.IndexOf(t, start, StringComparison.Ordinal);
            if (i >= 0 && (best < 0 || i < best)) { best = i; bestToken = t; }
        }
        return (best, bestToken);
    }

    private void AddWordPieces(string word, List<int> ids)
    {
        // HF counts code points; the library counts UTF-16 units, so decide the length rule here.
        int codePoints = 0;
        foreach (var _ in word.EnumerateRunes()) codePoints++;
        if (codePoints > MaxInputCharsPerWord) { ids.Add(UnkTokenId); return; }
        if (_wordCache.TryGetValue(word, out var cached)) { ids.AddRange(cached); return; }
        var pieces = _wordPiece.EncodeToIds(word, addSpecialTokens: false, considerPreTokenization: false, considerNormalization: false).ToArray();
        if (_wordCache.Count < WordCacheLimit) _wordCache.TryAdd(word, pieces);
        ids.AddRange(pieces);
    }

    /// <summary>HF <c>BasicTokenizer.tokenize</c> (after lower-casing, which HF's <c>tokenize</c> does character by character).</summary>
    private List<string> BasicTokenize(string text)
    {
        if (!DoBasicTokenize)
            return text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(w => DoLowerCase ? PythonLower(w) : w).ToList();
        var cleaned = new StringBuilder(text.Length + 8);
        foreach (var rune in EnumerateRunesStrict(text))
        {
            int cp = rune.Value;
            if (cp == 0 || cp == 0xFFFD || IsControl(rune)) continue;
            if (IsWhitespace(rune)) cleaned.Append(' ');
            else if (TokenizeChineseChars && IsChineseChar(cp)) Append(cleaned.Append(' '), rune).Append(' ');
            else Append(cleaned, rune);
        }
        string normalized = cleaned.ToString().Normalize(NormalizationForm.FormC);
        var words = new List<string>();
        foreach (var token in normalized.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            string t = token;
            if (DoLowerCase)
            {
                t = PythonLower(t);
                if (StripAccents != false) t = RemoveAccents(t);
            }
            else if (StripAccents == true) t = RemoveAccents(t);
            SplitOnPunctuation(t, words);
        }
        return words;
    }

    /// <summary>Runes of <paramref name="text"/>; an unpaired surrogate becomes U+FFFD (which cleaning then drops).</summary>
    private static IEnumerable<Rune> EnumerateRunesStrict(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out int used);
            yield return rune;
            i += used;
        }
    }

    /// <summary>Python's <c>str.lower</c> applied per character: simple case mapping, plus İ (U+0130) → "i̇" (U+0069 U+0307).</summary>
    private static string PythonLower(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var rune in s.EnumerateRunes())
        {
            if (rune.Value == 0x130) sb.Append("i\u0307");
            else Append(sb, Rune.ToLowerInvariant(rune));
        }
        return sb.ToString();
    }

    private static StringBuilder Append(StringBuilder sb, Rune rune)
    {
        if (rune.IsBmp) return sb.Append((char)rune.Value);
        Span<char> pair = stackalloc char[2];
        rune.EncodeToUtf16(pair);
        return sb.Append(pair);
    }

    /// <summary>NFD, then drop non-spacing marks (Unicode category Mn).</summary>
    private static string RemoveAccents(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var rune in s.Normalize(NormalizationForm.FormD).EnumerateRunes())
            if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark) Append(sb, rune);
        return sb.ToString();
    }

    private static void SplitOnPunctuation(string token, List<string> words)
    {
        var current = new StringBuilder();
        foreach (var rune in token.EnumerateRunes())
        {
            if (IsPunctuation(rune))
            {
                if (current.Length > 0) { words.Add(current.ToString()); current.Clear(); }
                words.Add(rune.ToString());
            }
            else Append(current, rune);
        }
        if (current.Length > 0) words.Add(current.ToString());
    }

    /// <summary>HF <c>_is_whitespace</c>: space, tab, newline, carriage return, or category Zs.</summary>
    private static bool IsWhitespace(Rune r) =>
        r.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(r) == UnicodeCategory.SpaceSeparator;

    /// <summary>HF <c>_is_control</c>: any category C* (Cc, Cf, Cn, Co, Cs) except tab, newline and carriage return.</summary>
    private static bool IsControl(Rune r)
    {
        if (r.Value is '\t' or '\n' or '\r') return false;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned
            or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;
    }

    /// <summary>HF <c>_is_punctuation</c>: the ASCII non-alphanumeric ranges 33–47, 58–64, 91–96, 123–126, or category P*.</summary>
    private static bool IsPunctuation(Rune r)
    {
        int cp = r.Value;
        if (cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>HF <c>_is_chinese_char</c>: the CJK Unified Ideographs blocks and extensions and the compatibility ideographs.</summary>
    private static bool IsChineseChar(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;

    // ------------------------------------------------------------------ model inputs

    /// <summary>
    /// Model inputs for a text or a pair: <c>[CLS] A [SEP]</c> (segment 0) or <c>[CLS] A [SEP] B [SEP]</c> (A part 0, B part 1).
    /// With <paramref name="maxLength"/>, over-long inputs are truncated as HF's <c>truncation=True</c> (longest_first:
    /// tokens are removed from the end of the longer sequence, the second one on ties); <paramref name="padding"/>
    /// <see cref="TextPadding.MaxLength"/> then right-pads with [PAD] (mask 0, segment 0) to exactly that length.
    /// </summary>
    public BertEncoding Encode(string text, string? textPair = null, int? maxLength = null, TextPadding padding = TextPadding.None)
    {
        if (padding == TextPadding.MaxLength && maxLength is null)
            throw new ArgumentException("Padding to max_length needs a maxLength.", nameof(padding));
        var a = EncodeToIds(text).ToList();
        var b = textPair is null ? null : EncodeToIds(textPair).ToList();
        int specials = b is null ? 2 : 3;
        if (maxLength is { } max)
        {
            if (max < specials)
                throw new ArgumentException($"maxLength {max} cannot hold the {specials} special tokens of a {(b is null ? "single text" : "text pair")}.", nameof(maxLength));
            int excess = a.Count + (b?.Count ?? 0) + specials - max;
            if (excess > 0)
            {
                if (b is null) a.RemoveRange(a.Count - excess, excess);
                else
                {
                    // longest_first: equivalent to removing one token at a time from the longer list (b on ties).
                    int fromA = 0, fromB = 0;
                    for (int i = 0; i < excess; i++)
                    {
                        if (a.Count - fromA > b.Count - fromB) fromA++;
                        else fromB++;
                    }
                    a.RemoveRange(a.Count - fromA, fromA);
                    b.RemoveRange(b.Count - fromB, fromB);
                }
            }
        }
        int length = a.Count + (b?.Count ?? 0) + specials;
        int total = padding == TextPadding.MaxLength ? Math.Max(length, maxLength!.Value) : length;
        var ids = new int[total];
        var types = new int[total];
        var mask = new int[total];
        int p = 0;
        ids[p++] = ClsTokenId;
        foreach (int id in a) ids[p++] = id;
        ids[p++] = SepTokenId;
        if (b is not null)
        {
            int bStart = p;
            foreach (int id in b) ids[p++] = id;
            ids[p++] = SepTokenId;
            for (int i = bStart; i < p; i++) types[i] = 1;
        }
        for (int i = 0; i < p; i++) mask[i] = 1;
        for (int i = p; i < total; i++) ids[i] = PadTokenId;
        return new BertEncoding(ids, types, mask);
    }

    /// <summary>Encodes several texts (and optional pairs); <see cref="TextPadding.Longest"/> pads to the longest in the batch.</summary>
    public IReadOnlyList<BertEncoding> EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs = null, int? maxLength = null, TextPadding padding = TextPadding.None)
    {
        if (pairs is not null && pairs.Count != texts.Count)
            throw new ArgumentException($"{texts.Count} texts but {pairs.Count} pair texts; give one pair text per text.", nameof(pairs));
        var encoded = new BertEncoding[texts.Count];
        for (int i = 0; i < texts.Count; i++)
            encoded[i] = Encode(texts[i], pairs?[i], maxLength, padding == TextPadding.MaxLength ? TextPadding.MaxLength : TextPadding.None);
        if (padding != TextPadding.Longest || encoded.Length == 0) return encoded;
        int longest = encoded.Max(e => e.Length);
        return encoded.Select(e => e.PadTo(longest, PadTokenId)).ToList();
    }

    /// <summary>
    /// Stacks encodings into int64 tensors <c>input_ids</c>, <c>token_type_ids</c>, <c>attention_mask</c> (B, T), right-padding
    /// each to the batch's longest with [PAD] / segment 0 / mask 0.
    /// </summary>
    public Dictionary<string, Tensor> ToTensors(IReadOnlyList<BertEncoding> encodings)
    {
        if (encodings.Count == 0) throw new ArgumentException("No encodings to stack.", nameof(encodings));
        int b = encodings.Count, t = encodings.Max(e => e.Length);
        var ids = new long[b * t];
        var types = new long[b * t];
        var mask = new long[b * t];
        for (int i = 0; i < b; i++)
        {
            var e = encodings[i];
            int row = i * t;
            for (int j = 0; j < t; j++)
            {
                bool real = j < e.Length;
                ids[row + j] = real ? e.InputIds[j] : PadTokenId;
                types[row + j] = real ? e.TokenTypeIds[j] : 0;
                mask[row + j] = real ? e.AttentionMask[j] : 0;
            }
        }
        long[] shape = [b, t];
        return new Dictionary<string, Tensor>
        {
            ["input_ids"] = torch.tensor(ids, shape), // (B, T)
            ["token_type_ids"] = torch.tensor(types, shape),
            ["attention_mask"] = torch.tensor(mask, shape),
        };
    }
}
