using Distill.Compression.Artifact;
using Xunit;

namespace Distill.Tests.Compression;

/// <summary>The Bloomier filter of the Weightless encoding (values kind BLOOMIER): exact recall of stored keys, the
/// false-positive rate on keys never stored, determinism for a seed, and the seeded hash against splitmix64's
/// published output.</summary>
public class BloomierFilterTests
{
    /// <summary>A pruned, clustered layer: ~8 % of <paramref name="numel"/> positions hold one of <paramref name="codes"/>
    /// codes (chosen by a generator independent of the filter's hash).</summary>
    private static (long[] Keys, int[] Values) Layer(int numel, int codes, int seed, double density = 0.08)
    {
        var rng = new Random(seed);
        var keys = new List<long>();
        var values = new List<int>();
        for (long p = 0; p < numel; p++)
            if (rng.NextDouble() < density)
            {
                keys.Add(p);
                values.Add(rng.Next(codes));
            }
        return (keys.ToArray(), values.ToArray());
    }

    [Fact]
    public void Mix_IsSplitMix64()
    {
        // SplitMix64 (Steele, Lea & Flood 2014; Vigna's reference C) from state 0 outputs 0xE220A8397B1DCDAF, then
        // 0x6E789E6AA1B965F4: Mix(z) is one step from state z, and the second state is the golden-ratio increment.
        Assert.Equal(0xE220A8397B1DCDAFUL, BloomierHash.Mix(0));
        Assert.Equal(0x6E789E6AA1B965F4UL, BloomierHash.Mix(0x9E3779B97F4A7C15UL));
    }

    [Theory]
    [InlineData(235_200, 4, 6)]
    [InlineData(30_000, 15, 4)]
    [InlineData(1_000, 3, 5)]
    [InlineData(40, 2, 3)]
    public void EveryStoredKey_ReadsItsValue(int numel, int codes, int bits)
    {
        var (keys, values) = Layer(numel, codes, seed: numel);
        var f = BloomierFilter.Build(keys, values, bits, seed: 7);
        Assert.Equal(0, f.Cells % 3);
        Assert.True(f.Cells >= keys.Length, $"{f.Cells} cells for {keys.Length} keys");
        for (int i = 0; i < keys.Length; i++) Assert.Equal(values[i], f.Query(keys[i]));
    }

    [Theory]
    [InlineData(4, 6)]
    [InlineData(7, 4)]
    [InlineData(1, 8)]
    public void FalsePositiveRate_OnKeysNeverStored_IsCodesOver2PowT(int codes, int bits)
    {
        const int numel = 200_000;
        var (keys, values) = Layer(numel, codes, seed: 11);
        var f = BloomierFilter.Build(keys, values, bits, seed: 3);
        var stored = keys.ToHashSet();
        long pruned = 0, falsePositives = 0;
        for (long p = 0; p < numel; p++)
        {
            if (stored.Contains(p)) continue;
            pruned++;
            if (f.Query(p) < codes) falsePositives++;
        }
        double expected = codes / Math.Pow(2, bits), rate = (double)falsePositives / pruned;
        double sigma = Math.Sqrt(expected * (1 - expected) / pruned);
        // Binomial sampling error: 5 standard deviations (a fair hash fails this about once in 1.7 million runs).
        Assert.True(Math.Abs(rate - expected) < 5 * sigma,
            $"false-positive rate {rate:F5} over {pruned} pruned positions; expected {expected:F5} ± {5 * sigma:F5}");
    }

    [Fact]
    public void Construction_IsDeterministicForASeed_AndDependsOnIt()
    {
        var (keys, values) = Layer(50_000, 8, seed: 5);
        var a = BloomierFilter.Build(keys, values, 5, seed: 42);
        var b = BloomierFilter.Build(keys, values, 5, seed: 42);
        var c = BloomierFilter.Build(keys, values, 5, seed: 43);
        Assert.Equal((a.Seed, a.Cells), (b.Seed, b.Cells));
        Assert.Equal(a.Table, b.Table);
        Assert.NotEqual(a.Table, c.Table);
    }

    [Fact]
    public void TooFewCells_FailsWithAClearError()
    {
        // 1.0 cell per key is below the 3-hypergraph's peeling threshold (~1.222): every attempt fails.
        var (keys, values) = Layer(100_000, 4, seed: 9);
        var e = Assert.Throws<InvalidOperationException>(() => BloomierFilter.Build(keys, values, 4, 0, cellsPerKey: 1.0, maxAttempts: 3));
        Assert.Contains("cells_per_key", e.Message);
    }

    [Fact]
    public void Encode_RefusesMoreDistinctValuesThanTheCellsHold()
    {
        var dense = new float[100];
        for (int i = 0; i < 16; i++) dense[i * 5] = i + 1; // 16 distinct non-zeros need 17 codes with zero
        var e = Assert.Throws<ArgumentException>(() => BloomierTensor.Encode(dense, 4, 0));
        Assert.Contains("16 distinct values", e.Message);
        var ok = BloomierTensor.Encode(dense, 5, 0);
        var back = ok.Decode(dense.Length);
        for (int i = 0; i < 16; i++) Assert.Equal(i + 1, back[i * 5]);
    }
}
