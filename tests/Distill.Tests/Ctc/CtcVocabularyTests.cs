using Distill.Text;
using Distill.Tests.Data;
using Xunit;

namespace Distill.Tests.Ctc;

public sealed class CtcVocabularyTests : IDisposable
{
    private readonly DataFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void BuiltVocabularyHasHfSpecialsFirstThenTheCharactersInOrdinalOrder()
    {
        var v = CtcVocabulary.FromTranscripts(["ab  ba", " c a "]);
        Assert.Equal(["<pad>", "<s>", "</s>", "<unk>", "|", "a", "b", "c"], v.Tokens);
        Assert.Equal((0, 4, 3), (v.PadId, v.DelimiterId, v.UnkId));
        Assert.True(v.TryEncode("  ab   c ", out var ids, out _));
        Assert.Equal([5, 6, 4, 7], ids); // whitespace runs become one |, trimmed
    }

    [Fact]
    public void TheTenFsddWordsGiveTwentyTokens()
    {
        var v = CtcVocabulary.FromTranscripts(Distill.Data.Fsdd.FsddWordsDataset.Words);
        // 5 specials + e f g h i n o r s t u v w x z
        Assert.Equal(20, v.Count);
        Assert.Equal("efghinorstuvwxz", string.Concat(v.Tokens.Skip(5)));
    }

    [Fact]
    public void ACharacterTheVocabularyLacksIsRefusedNotMappedToUnk()
    {
        var v = CtcVocabulary.FromTranscripts(["abc"]);
        Assert.False(v.TryEncode("abd", out _, out var missing));
        Assert.Equal("d", missing);
        Assert.False(v.TryEncode("a<unk>", out _, out missing)); // a special token's text is not a character of the vocabulary
    }

    [Fact]
    public void GreedyDecodingCollapsesRepeatsThenDropsBlanksAndReadsTheDelimiterAsASpace()
    {
        var v = CtcVocabulary.FromTranscripts(["ab"]); // a = 5, b = 6, | = 4, blank = 0
        Assert.Equal("ab", v.Decode([0, 5, 5, 0, 6, 6, 0]));
        Assert.Equal("aab", v.Decode([5, 0, 5, 6]));        // a blank separates a doubled letter
        Assert.Equal("ab", v.Decode([5, 5, 5, 6]));         // without one the repeat collapses
        Assert.Equal("a b", v.Decode([4, 5, 4, 4, 0, 4, 6, 4])); // leading/trailing and repeated delimiters normalised
        Assert.Equal("ab", v.Decode([1, 5, 2, 3, 6]));      // <s>, </s>, <unk> skipped
        Assert.Equal("", v.Decode([0, 0, 0]));
    }

    [Fact]
    public void VocabJsonRoundTripsAndBadFilesNameTheProblem()
    {
        var v = CtcVocabulary.FromTranscripts(["hello world"]);
        string path = _files.Text("v/vocab.json", v.ToJson());
        var read = CtcVocabulary.Read(_files["v"]);
        Assert.Equal(v.Tokens, read.Tokens);

        string noPad = _files.Text("a/vocab.json", """{"<unk>": 0, "|": 1, "a": 2}""");
        var e = Assert.Throws<InvalidInputException>(() => CtcVocabulary.Read(noPad));
        Assert.Contains($"{noPad}: the vocabulary has no '<pad>' token", e.Message);
        string gap = _files.Text("b/vocab.json", """{"<pad>": 0, "<unk>": 1, "|": 3}""");
        e = Assert.Throws<InvalidInputException>(() => CtcVocabulary.Read(gap));
        Assert.Contains("ids must be 0..2 without gaps", e.Message);
        string multi = _files.Text("c/vocab.json", """{"<pad>": 0, "<unk>": 1, "|": 2, "ab": 3}""");
        e = Assert.Throws<InvalidInputException>(() => CtcVocabulary.Read(multi));
        Assert.Contains("'ab'", e.Message);
        Assert.Contains("\"word_delimiter_token\": \"|\"", v.TokenizerConfigJson());
        Assert.Contains("\"tokenizer_class\": \"Wav2Vec2CTCTokenizer\"", v.TokenizerConfigJson());
    }
}
