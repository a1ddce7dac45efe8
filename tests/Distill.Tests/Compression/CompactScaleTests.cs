using Distill.Compression.Quantization;
using Distill.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

/// <summary>Compact scales (<see cref="QuantScheme.CompactScales"/>): powers of 2^(1/16), never below the min/max scale.</summary>
public class CompactScaleTests
{
    [Fact]
    public void CompactScale_IsTheSmallestPowerOfTwoToTheSixteenthNotBelowTheScale()
    {
        var rng = new Random(12);
        double step = Math.Pow(2, 1.0 / 16);
        for (int i = 0; i < 2000; i++)
        {
            float s = (float)Math.Pow(10, -7 + 8 * rng.NextDouble());
            float c = WeightQuantizer.CompactScale(s);
            double k = Math.Log2(c) * 16;
            Assert.True(Math.Abs(k - Math.Round(k)) < 1e-4, $"{c} is not a power of 2^(1/16)");
            Assert.True(c >= s, $"compact {c} < scale {s}");
            Assert.True(c < s * step * (1 + 1e-6), $"compact {c} is more than one step above {s}");
        }
        Assert.Equal(1f, WeightQuantizer.CompactScale(1f));
        Assert.Equal(0.5f, WeightQuantizer.CompactScale(0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => WeightQuantizer.CompactScale(0f));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CompactGrid_KeepsEveryWeightInRange_AndRepeatsScales(bool symmetric)
    {
        var g = ParamInit.Seeded(13);
        using var w = torch.randn(256, 32, generator: g) * torch.linspace(1, 4, 256).unsqueeze(1) * 0.01;
        var grid = WeightQuantizer.Grid(w, new QuantScheme(4, PerChannel: true, Symmetric: symmetric, CompactScales: true));
        var plain = WeightQuantizer.Grid(w, new QuantScheme(4, PerChannel: true, Symmetric: symmetric));
        // Scales spanning o octaves take at most 16·o + 2 compact values (a few dozen here), not one per row.
        double octaves = Math.Log2(plain.Scales.Max() / plain.Scales.Min());
        int distinct = grid.Scales.Distinct().Count();
        Assert.True(distinct <= 16 * octaves + 2 && distinct < 64, $"{distinct} distinct scales over {octaves:F2} octaves");
        Assert.Equal(256, plain.Scales.Distinct().Count());
        for (int c = 0; c < 256; c++) Assert.True(grid.Scales[c] >= plain.Scales[c]);
        // Nothing is clipped: the error of every entry is at most half its row's step.
        using var q = WeightQuantizer.FakeQuantize(w, grid);
        using var half = torch.tensor(grid.Scales).unsqueeze(1) / 2 * (1 + 1e-5);
        Assert.True((q - w).abs().le(half).all().item<bool>());
    }
}
