using Distill.Text;
using Distill.Training;
using Xunit;

namespace Distill.Tests.Ctc;

public sealed class TranscriptionMetricsTests
{
    [Fact]
    public void EditDistanceCountsSubstitutionsInsertionsAndDeletions()
    {
        Assert.Equal(3, EditDistance.Of("kitten".ToCharArray(), "sitting".ToCharArray())); // k→s, e→i, +g
        Assert.Equal(4, EditDistance.Of("abcd".ToCharArray(), "".ToCharArray()));
        Assert.Equal(2, EditDistance.Of(new[] { "the", "cat", "sat" }, new[] { "the", "bat", "sat", "down" }));
    }

    [Fact]
    public void WerAndCerAreCorpusTotalsOverReferenceLengths()
    {
        var m = new TranscriptionMetrics();
        // words: cat→bat (1 substitution) + "down" inserted = 2 edits over 3 reference words;
        // characters: c→b (1) + " down" inserted (5) = 6 edits over the 11 characters of "the cat sat".
        m.Add("the cat sat", "the bat sat down");
        Assert.Equal(2.0 / 3, m.Wer, 12);
        Assert.Equal(6.0 / 11, m.Cer, 12);
        Assert.Equal(0, m.ExactMatch);
        // A perfect second clip: totals (2 + 0) / (3 + 1) words and (6 + 0) / (11 + 4) characters, not a mean of rates.
        m.Add("zero", " zero ");
        Assert.Equal(0.5, m.Wer, 12);
        Assert.Equal(0.4, m.Cer, 12);
        Assert.Equal(0.5, m.ExactMatch, 12);
        // An empty hypothesis deletes every word and character.
        var empty = new TranscriptionMetrics();
        empty.Add("one two", "");
        Assert.Equal((1.0, 1.0), (empty.Wer, empty.Cer));
    }
}
