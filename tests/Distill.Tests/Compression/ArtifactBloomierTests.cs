using Distill.Compression.Artifact;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

/// <summary>Format version 4's BLOOMIER records (docs/artifact-format.md): written at their predicted size, read back
/// to what the table decodes to (false positives included), written only when asked for, and refused when malformed.</summary>
public class ArtifactBloomierTests
{
    private static string TempFile() => Path.Combine(Path.GetTempPath(), "distill-tests", $"bloomier-{Guid.NewGuid():N}.dcmp");

    /// <summary>A 10 × 20 weight with 16 non-zeros on 3 shared values, and its Bloomier table at <paramref name="bits"/> bits.</summary>
    private static (float[] Dense, BloomierTensor Table) Layer(int bits)
    {
        var dense = new float[200];
        float[] centroids = [-0.5f, 0.25f, 0.75f];
        for (int i = 0; i < 16; i++) dense[(i * 37) % 200] = centroids[i % 3];
        return (dense, BloomierTensor.Encode(dense, bits, seed: 5));
    }

    /// <summary>The file of one record "w" [10, 20] as the weightless stage leaves it: the tensor is what its table decodes to.</summary>
    private static (string Path, float[] Decoded, ArtifactPlan Plan) Write(int bits = 4)
    {
        var (_, table) = Layer(bits);
        var decoded = table.Decode(200);
        using var t = torch.tensor(decoded).view(10, 20);
        var options = new ArtifactOptions { Bloomier = new Dictionary<string, BloomierTensor> { ["w"] = table } };
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("w", t)], options);
        string path = TempFile();
        Assert.Equal(plan.PredictedBytes, ArtifactEncoder.Write(plan, path));
        return (path, decoded, plan);
    }

    [Fact]
    public void BloomierRecord_RoundTrips_AtItsPredictedSize_InVersion4()
    {
        var (path, decoded, plan) = Write();
        try
        {
            var w = plan.Tensors[0];
            Assert.Equal(ValueKind.Bloomier, w.Values);
            var f = w.Bloomier!.Filter;
            // Record: name 3 + rank/dims 3 + kinds/flags 3 + t, hashes 2 + seed, cells, K varints 3 + 3 centroids 12 + cells × 4 bits.
            Assert.Equal(3 + 3 + 3 + 2 + 3 + 12 + (f.Cells * 4 + 7) / 8, w.PredictedBytes);
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(4, bytes[4]);
            Assert.Equal((byte)ValueKind.Bloomier, bytes[16 + 6]);
            using var back = ArtifactReader.Read(path);
            Assert.Equal(decoded, back.Tensors["w"].data<float>().ToArray());
            // Every stored position reads its own value.
            var (dense, _) = Layer(4);
            for (int i = 0; i < dense.Length; i++)
                if (dense[i] != 0) Assert.Equal(dense[i], decoded[i]);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void FilesWithoutBloomierRecords_StayVersion3()
    {
        using var t = torch.tensor(new[] { 1.5f, 1.5f, -2f });
        var plan = ArtifactEncoder.Plan("mlp", "{}", [("b", t)], new ArtifactOptions());
        Assert.Equal(3, plan.Version);
    }

    [Fact]
    public void ATableThatNoLongerDecodesToTheTensor_IsRefusedByTheEncoder()
    {
        var (dense, table) = Layer(4);
        using var t = torch.tensor(dense).view(10, 20); // the tensor before freezing: the table's false positives are missing
        var options = new ArtifactOptions { Bloomier = new Dictionary<string, BloomierTensor> { ["w"] = table } };
        var decoded = table.Decode(200);
        Assert.NotEqual(dense, decoded); // ~34 false positives expected on the 184 pruned positions at 3 / 16
        var e = Assert.Throws<ArgumentException>(() => ArtifactEncoder.Plan("mlp", "{}", [("w", t)], options));
        Assert.Contains("does not decode from its Bloomier table", e.Message);
    }

    [Fact]
    public void AChangedWeight_IsRefusedByTheEncoder()
    {
        var (_, table) = Layer(4);
        var decoded = table.Decode(200);
        decoded[199] += 1f;
        using var t = torch.tensor(decoded).view(10, 20);
        var options = new ArtifactOptions { Bloomier = new Dictionary<string, BloomierTensor> { ["w"] = table } };
        var e = Assert.Throws<ArgumentException>(() => ArtifactEncoder.Plan("mlp", "{}", [("w", t)], options));
        Assert.Contains("flat index 199", e.Message);
    }

    /// <summary>Offsets in the file of <see cref="Write"/>: the header is 16 bytes, the record's kinds at 16 + 6 … 8, t at 16 + 9.</summary>
    [Theory]
    [InlineData(16 + 9, 0, "cell width 0")]                  // t = 0
    [InlineData(16 + 10, 2, "2 hash functions")]             // hashes
    [InlineData(16 + 12, 4, "not a positive multiple")]       // cells = 4
    [InlineData(16 + 13, 16, "16 entries does not fit 4-bit cells")] // K = 16: no code would mean zero
    [InlineData(16 + 7, 1, "positions_kind must be 0")]       // positions RELATIVE
    [InlineData(16 + 8, 1, "flags are 1")]                    // Huffman flag
    [InlineData(4, 3, "needs format version 4")]             // a version-3 file
    public void MalformedBloomierRecords_AreRefused(int offset, byte value, string expected)
    {
        var (path, _, _) = Write();
        try
        {
            var bytes = File.ReadAllBytes(path);
            bytes[offset] = value;
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains(expected, e.Message);
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ATruncatedTable_IsRefused()
    {
        var (path, _, _) = Write();
        try
        {
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^3]);
            var e = Assert.Throws<InvalidDataException>(() => ArtifactReader.Read(path));
            Assert.Contains("truncated", e.Message);
        }
        finally { File.Delete(path); }
    }
}
