using Distill.Compression.Pruning;
using Distill.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

public class NmPruningTests
{
    [Theory]
    [InlineData(2, 4, 8, 16)]
    [InlineData(1, 4, 5, 12)]
    [InlineData(3, 8, 4, 24)]
    public void Mask_KeepsExactlyTheNLargestOfEveryGroup(int n, int m, int rows, int cols)
    {
        var random = ParamInit.Seeded(3);
        using var w = torch.randn(rows, cols, generator: random);
        using var ones = torch.ones(rows, cols, ScalarType.Bool);
        var pattern = new NmPattern(n, m);
        using var mask = NmPruning.Mask(w, ones, pattern, "w");
        var values = w.data<float>().ToArray();
        var keep = mask.data<bool>().ToArray();
        for (int r = 0; r < rows; r++)
            for (int g = 0; g < cols / m; g++)
            {
                int start = r * cols + g * m;
                var expected = Enumerable.Range(start, m).OrderByDescending(i => Math.Abs(values[i])).ThenBy(i => i).Take(n).ToHashSet();
                for (int i = start; i < start + m; i++) Assert.Equal(expected.Contains(i), keep[i]);
            }
        using var pruned = w * mask;
        Assert.True(NmPruning.Satisfies(pruned, pattern));
        Assert.False(NmPruning.Satisfies(w, pattern));
        Assert.Equal(1.0 - (double)n / m, 1.0 - keep.Count(k => k) / (double)keep.Length, 12);
    }

    [Fact]
    public void Mask_OfConvKernel_GroupsAlongTheFlattenedReductionDimension()
    {
        var g = ParamInit.Seeded(4);
        using var w = torch.randn(3, 2, 2, 2, generator: g); // rows of 8 = in·kh·kw
        using var mask = NmPruning.Mask(w, torch.ones(3, 2, 2, 2, ScalarType.Bool), new NmPattern(2, 4), "conv.weight");
        using var counts = mask.view(3, 2, 4).sum(-1);
        Assert.True(counts.eq(2).all().item<bool>());
    }

    [Fact]
    public void RowLengthNotAMultipleOfM_IsAClearError()
    {
        using var w = torch.randn(4, 10);
        var e = Assert.Throws<ArgumentException>(() => NmPruning.Mask(w, torch.ones(4, 10, ScalarType.Bool), new NmPattern(2, 4), "layers.0.weight"));
        Assert.Contains("'layers.0.weight' has rows of 10 weights, not a multiple of M = 4", e.Message);
        Assert.Contains("exclude", e.Message);
    }

    [Theory]
    [InlineData("2:4", 2, 4)]
    [InlineData(" 1 : 8 ", 1, 8)]
    public void Pattern_Parses(string text, int n, int m) => Assert.Equal(new NmPattern(n, m), NmPattern.Parse(text));

    [Theory]
    [InlineData("4:4")]
    [InlineData("0:4")]
    [InlineData("2/4")]
    [InlineData("two:four")]
    public void Pattern_RejectsBadText(string text) => Assert.Throws<FormatException>(() => NmPattern.Parse(text));
}
