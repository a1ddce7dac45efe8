using Distill.Compression.Artifact;
using Distill.Models;
using Distill.Models.Mlp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

public class ArtifactFormatTests
{
    private static readonly ArtifactOptions Plain = new() { Huffman = false, Codebooks = false, Sparse = false };

    private static string TempFile() => Path.Combine(Path.GetTempPath(), "distill-tests", $"artifact-{Guid.NewGuid():N}.dcmp");

    /// <summary>Plans, writes and reads back one tensor; asserts the file has exactly the predicted size.</summary>
    private static (TensorPlan Plan, Tensor Decoded, long Bytes) RoundTrip(Tensor t, ArtifactOptions options, string name = "w")
    {
        var plan = ArtifactEncoder.Plan("mlp", "{}", [(name, t)], options);
        string path = TempFile();
        try
        {
            long written = ArtifactEncoder.Write(plan, path);
            Assert.Equal(plan.PredictedBytes, written);
            Assert.Equal(plan.PredictedBytes, new FileInfo(path).Length);
            using var back = ArtifactReader.Read(path);
            Assert.Equal(plan.Tensors[0].PredictedBytes, back.Records[0].Bytes);
            return (plan.Tensors[0], back.Tensors[name].clone(), written);
        }
        finally { File.Delete(path); }
    }

    private static void AssertExact(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.to(ScalarType.Float32).eq(actual).all().item<bool>(), "decoded tensor differs from the original");
    }

    [Fact]
    public void Huffman_MatchesTheTextbookExample()
    {
        // CLRS 16.3: frequencies a:45 b:13 c:12 d:16 e:9 f:5 → code lengths 1,3,3,3,4,4 (224 bits in all).
        long[] freq = [45, 13, 12, 16, 9, 5];
        var lengths = CanonicalHuffman.CodeLengths(freq);
        Assert.Equal([1, 3, 3, 3, 4, 4], lengths);
        Assert.Equal(224, CanonicalHuffman.EncodedBits(freq, lengths));
        // Canonical assignment by (length, symbol): a=0, b=100, c=101, d=110, e=1110, f=1111.
        Assert.Equal([0b0UL, 0b100, 0b101, 0b110, 0b1110, 0b1111], CanonicalHuffman.Codes(lengths));
        Assert.Equal([0, 1, 0], CanonicalHuffman.CodeLengths([0, 7, 0]));
    }

    [Fact]
    public void TinyFile_IsByteExactToTheSpec()
    {
        // docs/artifact-format.md: a codebook of 2 float32 centroids and 1-bit indices beats 3 float32 values (19 < 20 bytes).
        using var t = torch.tensor(new[] { 1.5f, 1.5f, -2f });
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("b", t)], new ArtifactOptions { Huffman = false, Sparse = false });
        string path = TempFile();
        try
        {
            ArtifactEncoder.Write(plan, path);
            byte[] expected =
            [
                (byte)'D', (byte)'C', (byte)'M', (byte)'P', 3, // magic, version
                3, (byte)'m', (byte)'l', (byte)'p', // family
                0, 2, (byte)'{', (byte)'}', 0, 1, 0, // config as plain JSON (DEFLATE would be longer), no activation ranges, tensor count, layout 0 (named records)
                0, 1, (byte)'b', 1, 3, // name (no prefix shared, suffix "b"), rank, dims
                3, 0, 0, // values_kind codebook, positions_kind all, flags
                1, 2, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0xC0, 0x3F, // bits 1, K 2, centroids −2 and 1.5 (float32 LE)
                0b1100_0000, // codes 1,1,0 MSB-first, zero-padded
            ];
            Assert.Equal(expected, File.ReadAllBytes(path));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void PredictedSize_MatchesAHandCount_AndPicksTheSmallestEncoding()
    {
        // Row [0 0 3 0 | 0 0 0 5]: record header (name 3 B, rank and dims 3 B, kinds 3 B) 9 B; float32 at all positions
        // 9+32 = 41 B; relative indices 9+4+8 = 21 B; 1:4 (2-bit offsets, one byte) 9+3+8 = 20 B — the smallest.
        // File header 16 B (magic 4, version 1, family 4, config 4, activation and tensor counts 2, layout 1). Total 36 B.
        using var t = torch.tensor(new[] { 0f, 0, 3, 0, 0, 0, 0, 5 }).view(1, 8);
        var options = new ArtifactOptions { Huffman = false, Codebooks = false };
        var (plan, decoded, bytes) = RoundTrip(t, options);
        Assert.Equal(PositionKind.NM, plan.Positions);
        Assert.Equal((1, 4), (plan.N, plan.M));
        Assert.Equal(36, bytes);
        AssertExact(t, decoded);
    }

    [Fact]
    public void SparseTensor_RelativeIndices_WithSkipEntries_RoundTripExactly()
    {
        var g = ParamInit.Seeded(5);
        using var w = torch.randn(50, 80, generator: g);
        using var keep = torch.rand(50, 80, generator: g).lt(0.05); // ~95 % zeros: long gaps force skip entries at small index widths
        using var sparse = w * keep;
        sparse.index_put_(torch.tensor(1.25f), torch.tensor(new long[] { 49 }), torch.tensor(new long[] { 79 })); // last position non-zero
        foreach (bool huffman in new[] { false, true })
        {
            var (plan, decoded, _) = RoundTrip(sparse, new ArtifactOptions { Huffman = huffman, Codebooks = false });
            Assert.Equal(PositionKind.Relative, plan.Positions);
            Assert.Equal(sparse.ne(0).sum().item<long>(), plan.StoredCount);
            Assert.True(plan.IndexEntries >= plan.StoredCount);
            AssertExact(sparse, decoded);
        }
    }

    [Fact]
    public void LongGaps_UseSkipEntries()
    {
        // 1000 consecutive non-zeros, a gap of 3000, one more: 1-bit gaps with 2999 skip entries are the smallest index.
        var data = new float[4001];
        for (int i = 0; i < 1000; i++) data[i] = 1 + i * 0.001f;
        data[3999] = -7f;
        using var t = torch.tensor(data);
        var (plan, decoded, _) = RoundTrip(t, new ArtifactOptions { Huffman = false, Codebooks = false });
        Assert.Equal(PositionKind.Relative, plan.Positions);
        Assert.Equal(1, plan.IndexBits);
        Assert.Equal(1001, plan.StoredCount);
        Assert.Equal(1001 + 2999, plan.IndexEntries);
        AssertExact(t, decoded);
    }

    [Fact]
    public void NmPositions_WithZeroFilledGroups_RoundTripExactly()
    {
        // 1:4 with the non-zero alternately at offsets 0 and 3 (gaps 1, 7, 1, 7, ...): 2-bit N:M offsets beat 3-bit
        // relative gaps. Group 10 is all zeros, so a stored zero fills its slot.
        var data = new float[4 * 256];
        for (int g = 0; g < 256; g++)
            if (g != 10) data[g * 4 + (g % 2 == 0 ? 0 : 3)] = 1 + g;
        using var t = torch.tensor(data).view(4, 256);
        var (plan, decoded, _) = RoundTrip(t, new ArtifactOptions { Huffman = false, Codebooks = false });
        Assert.Equal(PositionKind.NM, plan.Positions);
        Assert.Equal((1, 4), (plan.N, plan.M));
        Assert.Equal(256, plan.StoredCount);
        Assert.Equal(255, plan.Nonzeros);
        AssertExact(t, decoded);
    }

    [Fact]
    public void SharedWeights_AreStoredAsACodebook_HuffmanWhereItPays()
    {
        var g = ParamInit.Seeded(6);
        float[] centroids = [-0.3f, -0.05f, 0.02f, 0.11f, 0.4f];
        // Skewed use of the centroids: Huffman beats 3-bit fixed codes.
        using var idx = torch.multinomial(torch.tensor(new[] { 0.05f, 0.4f, 0.4f, 0.1f, 0.05f }), 3000, replacement: true, generator: g);
        using var t = torch.tensor(centroids)[idx].view(30, 100);
        var (plan, decoded, _) = RoundTrip(t, new ArtifactOptions());
        Assert.Equal(ValueKind.Codebook, plan.Values);
        Assert.Equal(3, plan.Bits);
        Assert.NotNull(plan.ValueHuffman);
        Assert.Equal(centroids, plan.Codebook);
        AssertExact(t, decoded);

        var (fixedPlan, fixedDecoded, _) = RoundTrip(t, new ArtifactOptions { Huffman = false });
        Assert.Null(fixedPlan.ValueHuffman);
        Assert.True(fixedPlan.PredictedBytes > plan.PredictedBytes);
        AssertExact(t, fixedDecoded);
    }

    [Theory]
    [InlineData(4, true, true)]
    [InlineData(3, false, false)]
    [InlineData(2, true, true)]
    public void LinearGrid_CodesRoundTripExactly(int bits, bool perChannel, bool symmetric)
    {
        int rows = 8, cols = 40, channels = perChannel ? rows : 1;
        var rng = new Random(bits);
        var scales = Enumerable.Range(0, channels).Select(_ => 0.01f + (float)rng.NextDouble() * 0.05f).ToArray();
        var zps = Enumerable.Range(0, channels).Select(_ => symmetric ? 1 << (bits - 1) : rng.Next(0, 1 << bits)).ToArray();
        var q = new LinearQuantParams(bits, perChannel, symmetric, scales, zps);
        var data = new float[rows * cols];
        for (int i = 0; i < data.Length; i++)
        {
            int c = perChannel ? i / cols : 0;
            data[i] = q.Dequantize(rng.Next(symmetric ? 1 : 0, q.MaxCode + 1), c);
        }
        using var t = torch.tensor(data).view(rows, cols);
        var options = new ArtifactOptions { Linear = new Dictionary<string, LinearQuantParams> { ["w"] = q }, Codebooks = perChannel };
        var (plan, decoded, _) = RoundTrip(t, options);
        Assert.Equal(ValueKind.Linear, plan.Values);
        Assert.Equal(0, plan.MaxAbsError);
        AssertExact(t, decoded);
    }

    [Fact]
    public void Int64AndFloat16_RoundTrip()
    {
        using var counts = torch.tensor(new long[] { 0, 5, -3, long.MaxValue });
        var (plan, decoded, _) = RoundTrip(counts, new ArtifactOptions());
        Assert.Equal(ValueKind.I64, plan.Values);
        Assert.True(counts.eq(decoded).all().item<bool>());

        var g = ParamInit.Seeded(8);
        using var w = torch.randn(16, 16, generator: g);
        var (half, back, _) = RoundTrip(w, new ArtifactOptions { Float16 = true, Codebooks = false });
        Assert.Equal(ValueKind.F16, half.Values);
        // float16 keeps 11 significant bits: relative error at most 2^-11 for normal values.
        using var bound = w.abs() * Math.Pow(2, -11) + 1e-7;
        Assert.True((back - w).abs().le(bound).all().item<bool>());
        Assert.True(half.MaxAbsError > 0);
    }

    [Fact]
    public void MalformedFiles_AreClearErrors()
    {
        using var t = torch.randn(10, 10);
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("layers.0.weight", t)], Plain);
        string path = TempFile();
        try
        {
            ArtifactEncoder.Write(plan, path);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^7]);
            var e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains("tensor 'layers.0.weight'", e.Message);
            Assert.Contains("truncated", e.Message);

            File.WriteAllBytes(path, [.. bytes, 0]);
            e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains("1 unexpected bytes after the last tensor", e.Message);

            File.WriteAllBytes(path, [(byte)'P', (byte)'K', 3, 4, 0, 0]);
            e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains("not a Distill compressed artifact", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void PrunedSharedModel_LoadsBackEqualToTheInMemoryModel()
    {
        var g = ParamInit.Seeded(9);
        using var model = ParamInit.Build(g, () => new MlpModel(new MlpConfig { InputSize = 64, HiddenSizes = [48, 24], NumLabels = 10 }));
        using (torch.no_grad())
        {
            foreach (var (name, p) in model.named_parameters())
            {
                if (!name.EndsWith("weight", StringComparison.Ordinal)) continue;
                // Prune 80 % and share the rest among 16 values: what prune + k-means leave behind.
                using var keep = torch.rand(p.shape, generator: g).lt(0.2);
                using var levels = (p / p.abs().max() * 8).round() * (p.abs().max() / 8);
                p.copy_(levels * keep);
            }
        }
        var plan = ModelArtifact.Plan(model, new ArtifactOptions());
        string path = TempFile();
        try
        {
            Assert.Equal(plan.PredictedBytes, ArtifactEncoder.Write(plan, path));
            using var loaded = ModelArtifact.Load(path, Distill.Models.ModelRegistry.Default);
            var a = model.state_dict();
            var b = loaded.state_dict();
            Assert.Equal(a.Keys.Order(), b.Keys.Order());
            foreach (var (k, v) in a) Assert.True(v.eq(b[k]).all().item<bool>(), k);
            var weights = plan.Tensors.Where(t => t.Name.EndsWith("weight", StringComparison.Ordinal)).ToList();
            Assert.All(weights, t => Assert.Equal(ValueKind.Codebook, t.Values));
            Assert.All(weights, t => Assert.NotEqual(PositionKind.All, t.Positions));
            model.eval();
            using var x = torch.randn(5, 64, generator: g);
            var batch = new Distill.Models.Batch(new Dictionary<string, Tensor> { ["pixel_values"] = x }, null);
            Assert.True(model.call(batch).Logits.eq(loaded.call(batch).Logits).all().item<bool>());
        }
        finally { File.Delete(path); }
    }
}
