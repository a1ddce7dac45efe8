using Distill.Losses;
using Xunit;
using static Distill.Tests.Losses.LossTestHelpers;

namespace Distill.Tests.Losses;

public class LayerMappingTests
{
    private static LayerMapping Parse(string yaml)
    {
        var m = LayerMapping.FromYaml(Yaml(yaml), out var error);
        Assert.True(m is not null, $"'{yaml}' should parse but gave: {error}");
        Assert.Null(error);
        return m!;
    }

    [Theory]
    [InlineData("uniform", LayerMappingKind.Uniform, "uniform")]
    [InlineData("last", LayerMappingKind.Last, "last")]
    [InlineData("skip:3", LayerMappingKind.Skip, "skip:3")]
    [InlineData("[[1, 2], [2, 4]]", LayerMappingKind.Explicit, "[[1, 2], [2, 4]]")]
    [InlineData("\n  - [0, 0]\n  - [1, 3]", LayerMappingKind.Explicit, "[[0, 0], [1, 3]]")]
    public void ParsesEveryForm(string yaml, LayerMappingKind kind, string text)
    {
        var m = Parse(yaml);
        Assert.Equal(kind, m.Kind);
        Assert.Equal(text, m.Text);
        Assert.Equal(m, Parse(m.Text)); // the text round-trips
    }

    [Fact]
    public void ParsedValuesCarryTheirNumbers()
    {
        Assert.Equal(3, Parse("skip:3").Step);
        Assert.Equal([(1, 2), (2, 4)], Parse("[[1, 2], [2, 4]]").ExplicitPairs);
        Assert.Same(LayerMapping.Uniform, Parse("uniform"));
        Assert.NotEqual(Parse("skip:2"), Parse("skip:3"));
    }

    [Theory]
    [InlineData("uniformly")]
    [InlineData("skip:0")]
    [InlineData("skip:-1")]
    [InlineData("skip:x")]
    [InlineData("'skip:'")]
    [InlineData("[]")]
    [InlineData("[1, 2]")]
    [InlineData("[[1]]")]
    [InlineData("[[1, 2, 3]]")]
    [InlineData("[[1, a]]")]
    [InlineData("[[-1, 2]]")]
    [InlineData("[[1.5, 2]]")]
    [InlineData("{skip: 2}")]
    public void RejectsBadSyntaxWithAnExplanation(string yaml)
    {
        Assert.Null(LayerMapping.FromYaml(Yaml(yaml), out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void UniformIsTinyBertMapping()
    {
        Assert.Equal([(1, 3), (2, 6), (3, 9), (4, 12)], LayerMapping.Uniform.Resolve(4, 12));
        Assert.Equal([(1, 1), (2, 2)], LayerMapping.Uniform.Resolve(2, 2));
        var e = Assert.Throws<ArgumentException>(() => LayerMapping.Uniform.Resolve(3, 4));
        Assert.Contains("multiple", e.Message);
    }

    [Fact]
    public void LastAndSkip()
    {
        Assert.Equal([(2, 6)], LayerMapping.Last.Resolve(2, 6));
        Assert.Equal([(1, 2), (2, 4), (3, 6)], LayerMapping.Skip(2).Resolve(3, 7));
        var e = Assert.Throws<ArgumentException>(() => LayerMapping.Skip(3).Resolve(3, 6));
        Assert.Contains("at most 2", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerMapping.Skip(0));
    }

    [Fact]
    public void ExplicitPairsAreRangeChecked()
    {
        var m = Parse("[[0, 0], [2, 5]]");
        Assert.Equal([(0, 0), (2, 5)], m.Resolve(2, 5));
        Assert.Contains("student layer must be in 0..1", Assert.Throws<ArgumentException>(() => m.Resolve(1, 5)).Message);
        Assert.Contains("teacher layer must be in 0..4", Assert.Throws<ArgumentException>(() => m.Resolve(2, 4)).Message);
        var noEmbedding = Assert.Throws<ArgumentException>(() => m.Resolve(2, 5, allowEmbedding: false));
        Assert.Contains("no attention map", noEmbedding.Message);
        Assert.Throws<ArgumentException>(() => LayerMapping.Uniform.Resolve(0, 4));
    }
}
