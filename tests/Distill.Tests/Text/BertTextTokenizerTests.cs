using System.Text.Json;
using Distill.Text;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace Distill.Tests.Text;

/// <summary>
/// Every entry of tokenization_reference.json (transformers 4.40.2 slow BertTokenizer, bert-base-uncased vocab):
/// 43 single texts, 3 pairs, 5 truncation/padding cases. Tokens, input_ids, token_type_ids and attention_mask must match.
/// </summary>
public class BertTextTokenizerTests(ITestOutputHelper log)
{
    private static readonly string Folder = Path.Combine(TestPaths.Data, "bert-base-uncased-tokenizer");

    /// <summary>Entries (by text) where our output is known to differ from HF. Empty: the wrapper reproduces every case.
    /// The test fails if this list names a case that actually matches, or misses one that differs.</summary>
    private static readonly HashSet<string> ExpectedDifferences = [];

    private static readonly Lazy<BertTextTokenizer> Shared = new(() => BertTextTokenizer.FromFolder(Folder));

    private static JsonElement Reference() => JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.TokenizerFixtures, "tokenization_reference.json"))).RootElement;

    private static int[] Ints(JsonElement e, string key) => e.GetProperty(key).EnumerateArray().Select(x => x.GetInt32()).ToArray();

    private static string[] Strings(JsonElement e, string key) => e.GetProperty(key).EnumerateArray().Select(x => x.GetString()!).ToArray();

    [Fact]
    public void AllSingleTextsAndPairsMatchHf()
    {
        var tok = Shared.Value;
        var reference = Reference();
        var differing = new List<string>();
        int singles = 0, pairs = 0;
        foreach (var e in reference.GetProperty("single").EnumerateArray())
        {
            singles++;
            string text = e.GetProperty("text").GetString()!;
            var enc = tok.Encode(text);
            bool same = enc.InputIds.SequenceEqual(Ints(e, "input_ids"))
                && enc.TokenTypeIds.SequenceEqual(Ints(e, "token_type_ids"))
                && enc.AttentionMask.SequenceEqual(Ints(e, "attention_mask"))
                && enc.InputIds.Select(tok.IdToToken).SequenceEqual(Strings(e, "tokens"));
            if (!same) { differing.Add(text); log.WriteLine($"DIFF {JsonSerializer.Serialize(text)}: got {string.Join(",", enc.InputIds)}"); }
        }
        foreach (var e in reference.GetProperty("pairs").EnumerateArray())
        {
            pairs++;
            string a = e.GetProperty("text_a").GetString()!, b = e.GetProperty("text_b").GetString()!;
            var enc = tok.Encode(a, b);
            bool same = enc.InputIds.SequenceEqual(Ints(e, "input_ids"))
                && enc.TokenTypeIds.SequenceEqual(Ints(e, "token_type_ids"))
                && enc.AttentionMask.All(m => m == 1)
                && enc.InputIds.Select(tok.IdToToken).SequenceEqual(Strings(e, "tokens"));
            if (!same) { differing.Add(a + " ||| " + b); log.WriteLine($"DIFF pair {JsonSerializer.Serialize(a)} / {JsonSerializer.Serialize(b)}"); }
        }
        Assert.Equal((43, 3), (singles, pairs));
        Assert.Equal(ExpectedDifferences.Order(), differing.Order());
    }

    [Fact]
    public void TruncationAndPaddingCasesMatchHf()
    {
        var tok = Shared.Value;
        int n = 0;
        foreach (var e in Reference().GetProperty("truncation").EnumerateArray())
        {
            n++;
            Assert.Equal("longest_first", e.GetProperty("truncation").GetString());
            Assert.Equal("max_length", e.GetProperty("padding").GetString());
            var enc = tok.Encode(e.GetProperty("text").GetString()!, maxLength: e.GetProperty("max_length").GetInt32(), padding: TextPadding.MaxLength);
            Assert.Equal(Ints(e, "input_ids"), enc.InputIds);
            Assert.Equal(Ints(e, "token_type_ids"), enc.TokenTypeIds);
            Assert.Equal(Ints(e, "attention_mask"), enc.AttentionMask);
        }
        Assert.Equal(5, n);
    }

    [Fact]
    public void PairTruncationIsLongestFirst()
    {
        var tok = Shared.Value;
        var reference = Reference().GetProperty("pairs")[0]; // 8 + 32 word pieces
        string a = reference.GetProperty("text_a").GetString()!, b = reference.GetProperty("text_b").GetString()!;
        var full = Ints(reference, "input_ids");
        int lenA = Array.IndexOf(full, 102) - 1, lenB = full.Length - lenA - 3;
        Assert.Equal((8, 32), (lenA, lenB));

        // max 20: 43 − 20 = 23 to remove, all from the longer b, which keeps 20 − 3 − 8 = 9.
        var enc = tok.Encode(a, b, maxLength: 20);
        Assert.Equal(20, enc.Length);
        Assert.Equal(full.Take(10).Concat(full.Skip(10).Take(9)).Append(102), enc.InputIds);
        // max 12: 31 to remove; b loses 24 to reach 8, then they alternate with ties taken from b: a keeps 5, b keeps 4
        // (HF's closed form: ids_to_move = 7 // 2 = 3, pair_ids_to_move = 24 + 7 − 3 = 28).
        enc = tok.Encode(a, b, maxLength: 12);
        Assert.Equal(full.Take(1 + 5).Append(102).Concat(full.Skip(10).Take(4)).Append(102), enc.InputIds);
        Assert.Equal(Enumerable.Repeat(0, 7).Concat(Enumerable.Repeat(1, 5)), enc.TokenTypeIds);
        Assert.Throws<ArgumentException>(() => tok.Encode(a, b, maxLength: 2));
    }

    [Fact]
    public void BatchPadsToLongestAndStacksTensors()
    {
        var tok = Shared.Value;
        var batch = tok.EncodeBatch(["hello world", "one long string of cliches ."], padding: TextPadding.Longest);
        Assert.All(batch, e => Assert.Equal(10, e.Length));
        Assert.Equal([101, 7592, 2088, 102, 0, 0, 0, 0, 0, 0], batch[0].InputIds);
        Assert.Equal([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], batch[0].AttentionMask);
        using var scope = torch.NewDisposeScope();
        var tensors = tok.ToTensors([tok.Encode("hello world"), tok.Encode("How old are you?", "I am 6 years old.")]);
        Assert.Equal(new long[] { 2, 14 }, tensors["input_ids"].shape);
        Assert.Equal(0L, tensors["attention_mask"][0, 4].item<long>());
        Assert.Equal(1L, tensors["token_type_ids"][1, 13].item<long>());
        Assert.Equal(0L, tensors["input_ids"][0, 13].item<long>());
    }

    [Fact]
    public void TokenizerJsonAloneGivesTheSameTokenizer()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"tok-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.Copy(Path.Combine(TestPaths.TokenizerFixtures, "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
            var fromJson = BertTextTokenizer.FromFolder(dir);
            Assert.True(fromJson.DoLowerCase); // from the BertNormalizer
            Assert.Equal(30522, fromJson.VocabSize);
            var fromVocab = Shared.Value;
            for (int id = 0; id < fromVocab.VocabSize; id += 97) Assert.Equal(fromVocab.IdToToken(id), fromJson.IdToToken(id));
            foreach (var e in Reference().GetProperty("single").EnumerateArray())
                Assert.Equal(Ints(e, "input_ids"), fromJson.Encode(e.GetProperty("text").GetString()!).InputIds);

            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"do_lower_case\": false}");
            var cased = BertTextTokenizer.FromFolder(dir);
            Assert.False(cased.DoLowerCase);
            Assert.Equal([101, 100, 2088, 102], cased.Encode("Hello world").InputIds); // "Hello" is not in an uncased vocab
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadFoldersAreClearErrors()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"tok-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            Assert.Contains("vocab.txt or tokenizer.json", Assert.Throws<FileNotFoundException>(() => BertTextTokenizer.FromFolder(dir)).Message);
            File.WriteAllLines(Path.Combine(dir, "vocab.txt"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello"]);
            var e = Assert.Throws<InvalidDataException>(() => BertTextTokenizer.FromFolder(dir));
            Assert.Contains("[MASK]", e.Message);
            Assert.Contains("vocab.txt", e.Message);
            File.WriteAllLines(Path.Combine(dir, "vocab.txt"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "hello"]);
            Assert.Contains("twice", Assert.Throws<InvalidDataException>(() => BertTextTokenizer.FromFolder(dir)).Message);
            File.WriteAllLines(Path.Combine(dir, "vocab.txt"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello"]);
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"do_lower_case\": \"yes\"}");
            Assert.Contains("do_lower_case", Assert.Throws<InvalidDataException>(() => BertTextTokenizer.FromFolder(dir)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
