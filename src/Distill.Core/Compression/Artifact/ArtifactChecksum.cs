using System.Security.Cryptography;

namespace Distill.Compression.Artifact;

/// <summary>
/// <c>model.dcmp.sha256</c> beside an exported artifact: its SHA-256 in <c>sha256sum</c>'s format
/// (<c>&lt;hex&gt;  model.dcmp</c>, so <c>sha256sum -c</c> checks it too). The format itself has no checksum — a flipped
/// code byte decodes to another weight without any error — and the file's bytes are a measured result
/// (<c>artifact_bytes</c>), so the checksum lives beside it rather than in it. Artifacts without one (written before)
/// are read unverified.
/// </summary>
public static class ArtifactChecksum
{
    public const string Suffix = ".sha256";

    /// <summary>Writes the checksum file of the artifact at <paramref name="artifactPath"/> (through a temp file).</summary>
    public static void Write(string artifactPath)
    {
        string hex;
        using (var fs = File.OpenRead(artifactPath)) hex = Convert.ToHexStringLower(SHA256.HashData(fs));
        string path = artifactPath + Suffix, tmp = path + ".tmp";
        File.WriteAllText(tmp, $"{hex}  {Path.GetFileName(artifactPath)}\n");
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Checks <paramref name="data"/> (the artifact's bytes) against its checksum file, when there is one.</summary>
    public static void Verify(string artifactPath, ReadOnlySpan<byte> data)
    {
        string path = artifactPath + Suffix;
        if (!File.Exists(path)) return;
        string text = File.ReadAllText(path).Trim();
        int space = text.IndexOf(' ');
        string expected = space > 0 ? text[..space] : text;
        if (expected.Length != 64 || !expected.All(Uri.IsHexDigit))
            throw new InvalidInputException(path, $"{path}: not a SHA-256 line ('<hex>  {Path.GetFileName(artifactPath)}'); the checksum file is damaged.");
        string actual = Convert.ToHexStringLower(SHA256.HashData(data));
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            throw new InvalidInputException(artifactPath,
                $"{artifactPath} does not match the SHA-256 in {path} ({expected[..12]}…, the file now {actual[..12]}…): the artifact is damaged; export it again (rerun its export stage).");
    }
}
