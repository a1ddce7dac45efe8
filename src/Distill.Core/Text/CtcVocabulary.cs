using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Distill.Text;

/// <summary>
/// A character vocabulary in HF's <c>Wav2Vec2CTCTokenizer</c> format: <c>vocab.json</c> maps each token to its id;
/// <c>&lt;pad&gt;</c> is the CTC blank (wav2vec2's <c>pad_token_id</c>), <c>|</c> the word delimiter (a space in the
/// text), <c>&lt;unk&gt;</c>, <c>&lt;s&gt;</c> and <c>&lt;/s&gt;</c> the other special tokens; every other token is one
/// character. A vocabulary built from transcripts (<see cref="FromTranscripts"/>) is laid out as HF's
/// <c>facebook/wav2vec2-base-960h</c>: <c>&lt;pad&gt;</c> 0, <c>&lt;s&gt;</c> 1, <c>&lt;/s&gt;</c> 2, <c>&lt;unk&gt;</c> 3,
/// <c>|</c> 4, then the characters of the transcripts in ordinal order.
/// <para>Text is taken as written (no case folding) with its whitespace runs collapsed to one space and trimmed
/// (<see cref="Normalize"/>). A character the vocabulary lacks is refused by <see cref="TryEncode"/> rather than mapped
/// to <c>&lt;unk&gt;</c>: a model trained to emit <c>&lt;unk&gt;</c> can never get the word right, so the datasets name
/// the file and row and ask for the character to be added to vocab.json (or removed from the transcript).</para>
/// </summary>
public sealed class CtcVocabulary
{
    public const string FileName = "vocab.json";
    public const string TokenizerConfigFileName = "tokenizer_config.json";
    public const string PadToken = "<pad>";
    public const string BosToken = "<s>";
    public const string EosToken = "</s>";
    public const string UnkToken = "<unk>";
    public const string WordDelimiter = "|";

    private static readonly string[] Specials = [PadToken, BosToken, EosToken, UnkToken, WordDelimiter];

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    private CtcVocabulary(string[] tokens)
    {
        _tokens = tokens;
        _ids = tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i, StringComparer.Ordinal);
        PadId = _ids[PadToken];
        DelimiterId = _ids[WordDelimiter];
        UnkId = _ids[UnkToken];
    }

    /// <summary>The tokens in id order.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    public int Count => _tokens.Length;

    /// <summary>The CTC blank (<c>&lt;pad&gt;</c>); wav2vec2's <c>pad_token_id</c> must equal it.</summary>
    public int PadId { get; }

    public int DelimiterId { get; }

    public int UnkId { get; }

    /// <summary>Whitespace runs collapsed to one space, leading and trailing whitespace removed; case kept.</summary>
    public static string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool space = false;
        foreach (char c in text.Trim())
        {
            if (char.IsWhiteSpace(c)) { space = true; continue; }
            if (space && sb.Length > 0) sb.Append(' ');
            space = false;
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>The HF layout (specials 0–4) followed by every character of the normalised transcripts except the space, in ordinal order.</summary>
    public static CtcVocabulary FromTranscripts(IEnumerable<string> transcripts)
    {
        var chars = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string t in transcripts)
        {
            var e = StringInfoElements(Normalize(t));
            foreach (string ch in e) if (ch != " ") chars.Add(ch);
        }
        chars.ExceptWith(Specials);
        return new CtcVocabulary([.. Specials, .. chars]);
    }

    /// <summary>From tokens in id order (checked as <see cref="Read"/> checks a file).</summary>
    public static CtcVocabulary FromTokens(IReadOnlyList<string> tokens)
    {
        var problem = Check(tokens);
        if (problem is not null) throw new InvalidDataException(problem);
        return new CtcVocabulary([.. tokens]);
    }

    /// <summary>Reads a <c>vocab.json</c> (the file, or a folder holding it). Errors name the file and the fix.</summary>
    public static CtcVocabulary Read(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file)) throw new InvalidInputException(file, $"{file}: not found; a CTC vocabulary is an HF vocab.json ({{\"<pad>\": 0, ..., \"|\": 4, \"a\": 5, ...}}).");
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(File.ReadAllText(file)) as JsonObject
                ?? throw new InvalidInputException(file, $"{file}: is not a JSON object mapping tokens to ids.");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException(file, $"{file}: is not valid JSON ({e.Message}).", e);
        }
        var byId = new SortedDictionary<int, string>();
        foreach (var (token, value) in obj)
        {
            if (value is not JsonValue v || !v.TryGetValue(out int id))
                throw new InvalidInputException(file, $"{file}: token '{token}' has id {value?.ToJsonString() ?? "null"}; ids are integers.");
            if (!byId.TryAdd(id, token))
                throw new InvalidInputException(file, $"{file}: tokens '{byId[id]}' and '{token}' share id {id}; give each token its own id.");
        }
        var tokens = byId.Values.ToList();
        if (byId.Count > 0 && (byId.Keys.First() != 0 || byId.Keys.Last() != byId.Count - 1))
            throw new InvalidInputException(file, $"{file}: ids must be 0..{byId.Count - 1} without gaps (vocab_size = the number of tokens).");
        if (Check(tokens) is { } problem) throw new InvalidInputException(file, $"{file}: {problem}");
        return new CtcVocabulary([.. tokens]);
    }

    private static string? Check(IReadOnlyList<string> tokens)
    {
        foreach (string special in new[] { PadToken, UnkToken, WordDelimiter })
            if (!tokens.Contains(special)) return $"the vocabulary has no '{special}' token (the CTC blank <pad>, the word delimiter | and <unk> are required).";
        if (tokens.Distinct(StringComparer.Ordinal).Count() != tokens.Count) return "a token is listed twice.";
        var multi = tokens.Where(t => !Specials.Contains(t) && StringInfoElements(t).Count != 1).ToList();
        if (multi.Count > 0) return $"tokens {string.Join(", ", multi.Take(5).Select(t => $"'{t}'"))} are not single characters; a character vocabulary has one character per token besides {string.Join(" ", Specials)}.";
        return null;
    }

    private static List<string> StringInfoElements(string s)
    {
        var list = new List<string>();
        var e = System.Globalization.StringInfo.GetTextElementEnumerator(s);
        while (e.MoveNext()) list.Add(e.GetTextElement());
        return list;
    }

    /// <summary>The token ids of <see cref="Normalize"/>(<paramref name="text"/>), a space becoming <c>|</c>; false with the first character the vocabulary lacks.</summary>
    public bool TryEncode(string text, out int[] ids, out string? missing)
    {
        var list = new List<int>();
        foreach (string ch in StringInfoElements(Normalize(text)))
        {
            if (ch == " ") { list.Add(DelimiterId); continue; }
            if (Specials.Contains(ch) || !_ids.TryGetValue(ch, out int id))
            {
                ids = [];
                missing = ch;
                return false;
            }
            list.Add(id);
        }
        ids = [.. list];
        missing = null;
        return true;
    }

    /// <summary>
    /// Greedy CTC decoding of one clip's per-frame argmax ids: consecutive repeats collapsed, then blanks dropped
    /// (so "a a" needs a blank between the frames), <c>|</c> read as a space, the other special tokens skipped (HF's
    /// <c>batch_decode</c> with skip_special_tokens), whitespace normalised.
    /// </summary>
    public string Decode(ReadOnlySpan<long> frameIds)
    {
        var sb = new StringBuilder();
        long previous = -1;
        foreach (long id in frameIds)
        {
            if (id == previous) continue;
            previous = id;
            if (id == PadId || id < 0 || id >= _tokens.Length) continue;
            string token = _tokens[id];
            if (id == DelimiterId) sb.Append(' ');
            else if (!Specials.Contains(token)) sb.Append(token);
        }
        return Normalize(sb.ToString());
    }

    /// <summary><c>vocab.json</c> as HF writes it (token → id, in id order).</summary>
    public string ToJson()
    {
        var obj = new JsonObject();
        for (int i = 0; i < _tokens.Length; i++) obj[_tokens[i]] = i;
        return obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary><c>tokenizer_config.json</c> of a <c>Wav2Vec2CTCTokenizer</c> over this vocabulary (what <c>Wav2Vec2Processor.from_pretrained</c> reads).</summary>
    public string TokenizerConfigJson()
    {
        var obj = new JsonObject
        {
            ["tokenizer_class"] = "Wav2Vec2CTCTokenizer",
            ["processor_class"] = "Wav2Vec2Processor",
            ["unk_token"] = UnkToken,
            ["pad_token"] = PadToken,
            ["bos_token"] = _ids.ContainsKey(BosToken) ? BosToken : null,
            ["eos_token"] = _ids.ContainsKey(EosToken) ? EosToken : null,
            ["word_delimiter_token"] = WordDelimiter,
            ["replace_word_delimiter_char"] = " ",
            ["do_lower_case"] = false,
            ["target_lang"] = null,
            ["clean_up_tokenization_spaces"] = false,
        };
        return obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
