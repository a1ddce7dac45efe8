using System.Text;
using Distill.Compression.Artifact;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

/// <summary>What format version 2 added (docs/artifact-format.md): N:M combination indices, scale codebooks, front-coded
/// names, the DEFLATE-compressed config; and that version-1 files still read.</summary>
public class ArtifactVersion2Tests
{
    private static string TempFile() => Path.Combine(Path.GetTempPath(), "distill-tests", $"artifact-{Guid.NewGuid():N}.dcmp");

    /// <summary>Every n-subset of 0..m-1 in lexicographic order, by plain recursion (independent of the ranking formula).</summary>
    private static List<int[]> Subsets(int n, int m)
    {
        var all = new List<int[]>();
        void Walk(List<int> prefix, int next)
        {
            if (prefix.Count == n) { all.Add([.. prefix]); return; }
            for (int v = next; v < m; v++)
            {
                prefix.Add(v);
                Walk(prefix, v + 1);
                prefix.RemoveAt(prefix.Count - 1);
            }
        }
        Walk([], 0);
        return all;
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 4)]
    [InlineData(3, 4)]
    [InlineData(2, 8)]
    [InlineData(4, 8)]
    [InlineData(3, 16)]
    public void CombinationIndex_IsTheLexicographicRank(int n, int m)
    {
        var subsets = Subsets(n, m);
        Assert.Equal(subsets.Count, NmCombination.Binomial(m, n));
        Assert.Equal((int)Math.Ceiling(Math.Log2(subsets.Count)), NmCombination.CodeBits(n, m));
        var back = new int[n];
        for (int i = 0; i < subsets.Count; i++)
        {
            Assert.Equal(i, NmCombination.Rank(subsets[i], m));
            NmCombination.Unrank(i, m, back);
            Assert.Equal(subsets[i], back);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => NmCombination.Unrank(subsets.Count, m, back));
    }

    [Fact]
    public void TwoFour_StoresOneCombinationIndexPerGroup_ByteExact()
    {
        // 2 rows × 16, 2:4: 8 groups with offset sets {0,1} {0,2} {0,3} {1,2} | {1,3} {2,3} {0,1} {2,3} → ranks 0 1 2 3 4 5 0 5,
        // 3-bit codes 000 001 010 011 100 101 000 101 = 0x05 0x39 0x45 (3 bytes; 2-bit offsets would take 4).
        int[][] sets = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3], [0, 1], [2, 3]];
        var data = new float[32];
        for (int g = 0; g < 8; g++)
            foreach (int o in sets[g]) data[g * 4 + o] = 1 + g + 0.25f * o;
        using var t = torch.tensor(data).view(2, 16);
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("w", t)], new ArtifactOptions { Huffman = false, Codebooks = false });
        var w = plan.Tensors[0];
        Assert.Equal(PositionKind.NMCombination, w.Positions);
        Assert.Equal((2, 4), (w.N, w.M));
        // Record: name 3 + rank/dims 3 + kinds 3 + N, M 2 + codes 3 + 16 float32 64 = 78; file header 16 (version 3).
        Assert.Equal(78, w.PredictedBytes);
        string path = TempFile();
        try
        {
            Assert.Equal(94, ArtifactEncoder.Write(plan, path));
            var bytes = File.ReadAllBytes(path);
            // Header 16, name 3, rank/dims 3: values_kind (0, float32) at 22, then positions_kind 3, flags 0, N, M, the codes.
            Assert.Equal(new byte[] { 0, 3, 0, 2, 4, 0x05, 0x39, 0x45 }, bytes[22..30]);
            using var back = ArtifactReader.Read(path);
            Assert.True(t.eq(back.Tensors["w"]).all().item<bool>());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void RepeatedScales_AreStoredAsACodebook_AndDecodeExactly()
    {
        // 8 channels with two distinct scales: codebook (bits 1, K 2, 2 × float32, 8 one-bit codes) = 1+1+8+1 = 11 bytes
        // instead of 8 × 4 = 32.
        float a = 0.02f, b = 0.0625f;
        float[] scales = [a, b, a, a, b, b, a, b];
        var q = new LinearQuantParams(4, true, true, scales, Enumerable.Repeat(8, 8).ToArray());
        var rng = new Random(3);
        var data = new float[8 * 40];
        for (int i = 0; i < data.Length; i++) data[i] = q.Dequantize(rng.Next(1, 16), i / 40);
        using var t = torch.tensor(data).view(8, 40);
        var grids = new Dictionary<string, LinearQuantParams> { ["w"] = q };
        var withBook = ArtifactEncoder.Plan("mlp", "{}", [("w", t)], new ArtifactOptions { Huffman = false, Linear = grids }).Tensors[0];
        var plain = ArtifactEncoder.Plan("mlp", "{}", [("w", t)], new ArtifactOptions { Huffman = false, Codebooks = false, Linear = grids }).Tensors[0];
        Assert.Equal(ValueKind.Linear, withBook.Values);
        Assert.Equal(new[] { a, b }, withBook.ScaleCodebook);
        Assert.Equal(1, withBook.ScaleBits);
        Assert.Null(plain.ScaleCodebook);
        Assert.Equal(32 - 11, plain.PredictedBytes - withBook.PredictedBytes);
        AssertRoundTrip(t, new ArtifactOptions { Huffman = false, Linear = grids });
    }

    [Fact]
    public void SkewedScaleCodes_AreHuffmanCoded()
    {
        // 200 channels, scales 0.5 / 0.25 / 0.125 used 180 / 10 / 10 times: Huffman (1-2 bits) beats 2-bit fixed codes.
        var scales = Enumerable.Range(0, 200).Select(i => i < 180 ? 0.5f : i < 190 ? 0.25f : 0.125f).ToArray();
        var q = new LinearQuantParams(3, true, true, scales, Enumerable.Repeat(4, 200).ToArray());
        var rng = new Random(4);
        var data = new float[200 * 8];
        for (int i = 0; i < data.Length; i++) data[i] = q.Dequantize(rng.Next(1, 8), i / 8);
        using var t = torch.tensor(data).view(200, 8);
        var options = new ArtifactOptions { Linear = new Dictionary<string, LinearQuantParams> { ["w"] = q } };
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("w", t)], options).Tensors[0];
        Assert.NotNull(plan.ScaleCodebook);
        Assert.NotNull(plan.ScaleHuffman);
        AssertRoundTrip(t, options);
    }

    [Fact]
    public void Names_AreFrontCoded_AndALongConfigIsDeflated()
    {
        string config = "{\"hidden_sizes\":[" + string.Join(",", Enumerable.Repeat("300", 40)) + "],\"name\":\"" + new string('x', 200) + "\"}";
        using var w0 = torch.ones(3, 3);
        using var b0 = torch.ones(3) * 2;
        using var w1 = torch.ones(2, 3) * 3;
        var plan = ArtifactEncoder.Plan("mlp", config, [("layers.0.weight", w0), ("layers.0.bias", b0), ("layers.1.weight", w1)], new ArtifactOptions());
        // "layers.0.weight": nothing shared, 15 bytes: 1+1+15. "layers.0.bias" shares "layers.0." (9): 1+1+4.
        // "layers.1.weight" shares "layers." (7): 1+1+8.
        Assert.Equal([17L, 6, 10], plan.Tensors.Select(t => t.NameBytes));
        Assert.Equal(ArtifactEncoder.ConfigDeflate, plan.ConfigEncoding);
        Assert.True(plan.HeaderBytes < Encoding.UTF8.GetByteCount(config));
        string path = TempFile();
        try
        {
            Assert.Equal(plan.PredictedBytes, ArtifactEncoder.Write(plan, path));
            using var back = ArtifactReader.Read(path);
            Assert.Equal(config, back.ConfigJson);
            Assert.Equal(["layers.0.weight", "layers.0.bias", "layers.1.weight"], back.Records.Select(r => r.Name));
            Assert.True(back.Tensors["layers.0.bias"].eq(b0).all().item<bool>());
            Assert.True(back.Tensors["layers.1.weight"].eq(w1).all().item<bool>());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Version1Files_StillRead()
    {
        // The version-1 example of docs/artifact-format.md: plain name and config strings, b = [1.5, 1.5, −2] as a codebook.
        byte[] v1 =
        [
            (byte)'D', (byte)'C', (byte)'M', (byte)'P', 1,
            3, (byte)'m', (byte)'l', (byte)'p', 2, (byte)'{', (byte)'}', 0, 1,
            1, (byte)'b', 1, 3,
            3, 0, 0,
            1, 2, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0xC0, 0x3F,
            0b1100_0000,
        ];
        string path = TempFile();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            File.WriteAllBytes(path, v1);
            using var back = ArtifactReader.Read(path);
            Assert.Equal("{}", back.ConfigJson);
            Assert.Equal(new[] { 1.5f, 1.5f, -2f }, back.Tensors["b"].data<float>().ToArray());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void MalformedVersion2Records_AreClearErrors()
    {
        int[][] sets = [[0, 1], [2, 3], [1, 3], [0, 2], [0, 1], [2, 3], [1, 3], [0, 2]];
        var data = new float[32];
        for (int g = 0; g < 8; g++)
            foreach (int o in sets[g]) data[g * 4 + o] = 1 + g;
        using var t = torch.tensor(data).view(1, 32);
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("w", t)], new ArtifactOptions { Huffman = false, Codebooks = false });
        Assert.Equal(PositionKind.NMCombination, plan.Tensors[0].Positions);
        string path = TempFile();
        try
        {
            ArtifactEncoder.Write(plan, path);
            var good = File.ReadAllBytes(path);
            // Header 16, name 3, rank/dims 3: values_kind at 22, positions_kind 23, flags 24, N 25, M 26, codes from 27.
            var bad = (byte[])good.Clone();
            bad[27] = 0xFF; // first 3-bit index 7 ≥ C(4, 2) = 6
            File.WriteAllBytes(path, bad);
            var e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains("combination index 7 of group 0 is not below C(4, 2) = 6", e.Message);

            bad = (byte[])good.Clone();
            bad[24] = 4; // a scale codebook flag on float32 values
            File.WriteAllBytes(path, bad);
            e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains("tensor 'w'", e.Message);
            Assert.Contains("only linear values have scales", e.Message);

            bad = (byte[])good.Clone();
            bad[16] = 2; // the first name claims 2 bytes shared with a previous name that does not exist
            File.WriteAllBytes(path, bad);
            e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains("shares 2 bytes with the previous name, which has 0", e.Message);

            bad = (byte[])good.Clone();
            bad[9] = 7; // config encoding byte: only 0 and 1 exist
            File.WriteAllBytes(path, bad);
            e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains("unknown config encoding 7", e.Message);

            bad = (byte[])good.Clone();
            (bad[9], bad[11], bad[12]) = (1, 0xFF, 0xFF); // DEFLATE, but the block type bits 11 are reserved: corrupt
            File.WriteAllBytes(path, bad);
            e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains("config's DEFLATE stream is corrupt", e.Message);
        }
        finally { File.Delete(path); }
    }

    private static void AssertRoundTrip(Tensor t, ArtifactOptions options)
    {
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("w", t)], options);
        string path = TempFile();
        try
        {
            Assert.Equal(plan.PredictedBytes, ArtifactEncoder.Write(plan, path));
            using var back = ArtifactReader.Read(path);
            Assert.True(t.eq(back.Tensors["w"]).all().item<bool>(), "decoded tensor differs");
        }
        finally { File.Delete(path); }
    }
}
