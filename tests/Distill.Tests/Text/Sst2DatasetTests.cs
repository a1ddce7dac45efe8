using System.Diagnostics;
using System.Text.Json;
using Distill.Data;
using Distill.Data.Sst2;
using Distill.Recipes;
using Distill.Text;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace Distill.Tests.Text;

public class Sst2DatasetTests(ITestOutputHelper log)
{
    private static readonly string DataFolder = Path.Combine(TestPaths.Data, "sst2");
    private static readonly string TokenizerFolder = Path.Combine(TestPaths.Data, "bert-base-uncased-tokenizer");
    private static readonly Lazy<BertTextTokenizer> Tokenizer = new(() => BertTextTokenizer.FromFolder(TokenizerFolder));

    [Fact]
    public void TrainSplitHasAllRowsAndDecodesTheFirstOnes()
    {
        _ = Tokenizer.Value;
        var watch = Stopwatch.StartNew();
        var train = Sst2Dataset.Open(DataFolder, "train", Tokenizer.Value);
        log.WriteLine($"train: {train.Count} rows opened and tokenized in {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(67_349, train.Count);
        Assert.Equal((29_780, 37_569), train.LabelCounts());
        Assert.Equal(2, train.NumClasses);
        Assert.Equal("hide new secretions from the parental units", train.Text(0));
        Assert.Equal(0, train.Label(0));
        Assert.Equal("contains no wit , only labored gags", train.Text(1));
        Assert.Equal(1, train.Label(2));
        Assert.StartsWith("that loves its characters and communicates something rather beautiful about human nature", train.Text(2));
        // Decoding the ids gives back the (lower-cased) text: [CLS] w ##p ... [SEP].
        for (int i = 0; i < 3; i++) Assert.Equal(train.Text(i), Decode(train.Encoding(i).InputIds));
        Assert.DoesNotContain(Enumerable.Range(0, train.Count), i => train.Text(i).EndsWith('\r'));
        Assert.All(Enumerable.Range(0, train.Count).Where(i => i % 97 == 0), i => Assert.InRange(train.Encoding(i).Length, 3, 64));
    }

    private static string Decode(int[] ids)
    {
        var tok = Tokenizer.Value;
        Assert.Equal(tok.ClsTokenId, ids[0]);
        Assert.Equal(tok.SepTokenId, ids[^1]);
        var words = new List<string>();
        foreach (int id in ids[1..^1])
        {
            string t = tok.IdToToken(id);
            if (t.StartsWith("##", StringComparison.Ordinal)) words[^1] += t[2..];
            else words.Add(t);
        }
        return string.Join(" ", words);
    }

    [Fact]
    public void DevSplitMatchesTheHfTokenizationOfItsFirstSentencesAndUnescapesBrackets()
    {
        var dev = Sst2Dataset.Open(DataFolder, "dev", Tokenizer.Value);
        Assert.Equal(872, dev.Count);
        Assert.Equal((428, 444), dev.LabelCounts());
        // tokenization_reference.json's first 25 single texts are the first 25 dev sentences, tokenized by HF.
        var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.TokenizerFixtures, "tokenization_reference.json"))).RootElement.GetProperty("single");
        for (int i = 0; i < 25; i++)
        {
            Assert.Equal(reference[i].GetProperty("text").GetString(), dev.Text(i));
            Assert.Equal(reference[i].GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()), dev.Encoding(i).InputIds);
        }
        var bracketed = Enumerable.Range(0, dev.Count).Where(i => dev.Text(i).Contains('(')).ToList();
        Assert.Equal(42, bracketed.Count); // the 42 lines with -lrb- / -rrb-
        Assert.DoesNotContain(Enumerable.Range(0, dev.Count), i => dev.Text(i).Contains("-lrb-") || dev.Text(i).Contains("-rrb-"));
        Assert.Contains(1006, dev.Encoding(bracketed[0]).InputIds); // "(" is a real token, as in train.tsv
        Assert.Contains(1007, dev.Encoding(bracketed[0]).InputIds); // ")"
    }

    [Fact]
    public void BatchesArePaddedToTheirLongestAndCarryLabels()
    {
        using var scope = torch.NewDisposeScope();
        var dev = Sst2Dataset.Open(DataFolder, "dev", Tokenizer.Value, maxLength: 16);
        int[] rows = [0, 1, 2];
        var batch = dev.GetBatch(rows);
        int[] lengths = rows.Select(i => dev.Encoding(i).Length).ToArray();
        Assert.Equal(10, lengths[0]); // "one long string of cliches ." is 10 tokens
        Assert.Equal(16, lengths[1]); // truncated to max_length, ending in [SEP]
        Assert.Equal(102, dev.Encoding(1).InputIds[^1]);
        Assert.Equal(new long[] { 3, 16 }, batch["input_ids"].shape);
        Assert.Equal(new long[] { 3, 16 }, batch["attention_mask"].shape);
        Assert.Equal(new long[] { 3, 16 }, batch["token_type_ids"].shape);
        Assert.Equal(10L, batch["attention_mask"][0].sum().item<long>());
        Assert.Equal(0L, batch["input_ids"][0, 12].item<long>());
        Assert.Equal(0L, batch["token_type_ids"].sum().item<long>());
        Assert.Equal(new long[] { dev.Label(0), dev.Label(1), dev.Label(2) }, batch.Labels!.data<long>().ToArray());
    }

    [Fact]
    public void RegistryEntryValidatesTheDataSection()
    {
        var kind = DatasetRegistry.Default.Get("sst2");
        Assert.Equal(["train", "dev"], kind.Splits);
        var good = new DataSpec { Dataset = "sst2", Path = DataFolder, Tokenizer = TokenizerFolder, EvalSplit = "dev", MaxLength = 32 };
        Assert.Empty(kind.Validate(good));
        Assert.Equal(["input_ids", "token_type_ids", "attention_mask"], kind.Inputs(good).Select(i => i.Name));
        Assert.All(kind.Inputs(good), i => Assert.Equal(new long[] { 32 }, i.Shape));

        var problems = kind.Validate(new DataSpec { Dataset = "sst2", Path = DataFolder }).ToList(); // eval_split defaults to "test"
        Assert.Contains(problems, p => p.Key == "eval_split" && p.Message.Contains("'dev'"));
        Assert.Contains(problems, p => p.Key == "tokenizer");
        Assert.Contains(kind.Validate(good with { Path = TokenizerFolder }), p => p.Key == "path" && p.Message.Contains("train.tsv"));
        Assert.Contains(kind.Validate(good with { Tokenizer = DataFolder }), p => p.Key == "tokenizer" && p.Message.Contains("vocab.txt"));
    }

    [Fact]
    public void MalformedTsvNamesFileAndLine()
    {
        string file = Path.Combine(Path.GetTempPath(), $"sst2-{Guid.NewGuid():N}.tsv");
        try
        {
            File.WriteAllText(file, "label\tsentence\n1\tgood\n2\tbad label\n");
            var e = Assert.Throws<InvalidDataException>(() => Sst2Dataset.ReadTsv(file));
            Assert.Contains(file + ":3", e.Message);
            File.WriteAllText(file, "sentence\tlabel\ngood\t1\n");
            Assert.Contains(file + ":1", Assert.Throws<InvalidDataException>(() => Sst2Dataset.ReadTsv(file)).Message);
            File.WriteAllText(file, "label\tsentence\r\n0\tno tab here\r\n1 missing tab\r\n");
            Assert.Contains("no tab", Assert.Throws<InvalidDataException>(() => Sst2Dataset.ReadTsv(file)).Message);
        }
        finally { File.Delete(file); }
    }
}
