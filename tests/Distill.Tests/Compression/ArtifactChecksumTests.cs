using Distill.Compression.Artifact;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Compression;

/// <summary>Issue 18, row 4 for artifacts: a flipped code byte decodes without error, so the sidecar checksum must catch it.</summary>
public class ArtifactChecksumTests
{
    [Fact]
    public void AFlippedByteIsRefusedAgainstTheChecksumAndAnArtifactWithoutOneStillReads()
    {
        string dir = Path.Combine(Path.GetTempPath(), "distill-tests", $"artifact-sum-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            using var w = torch.randn([8, 8], generator: new torch.Generator(3, torch.CPU));
            var plan = ArtifactEncoder.Plan("mlp", "{}", [("w", w)], new ArtifactOptions { Huffman = false, Codebooks = false, Sparse = false });
            string path = Path.Combine(dir, "model.dcmp");
            ArtifactEncoder.Write(plan, path);
            ArtifactChecksum.Write(path);
            Assert.StartsWith(Distill.Checkpoints.CheckpointChecksums.Sha256(path) + "  model.dcmp", File.ReadAllText(path + ArtifactChecksum.Suffix));
            using (ArtifactReader.Read(path)) { }

            var bytes = File.ReadAllBytes(path);
            bytes[^3] ^= 0x40; // inside the last float: decodes to another weight
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<InvalidInputException>(() => ArtifactReader.Read(path));
            Assert.Contains($"{path} does not match the SHA-256", e.Message);
            Assert.Contains("export it again", e.Message);

            File.Delete(path + ArtifactChecksum.Suffix); // an artifact written before checksums: read as it is
            using var unverified = ArtifactReader.Read(path);
            Assert.False(unverified.Tensors["w"].eq(w).all().item<bool>());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
