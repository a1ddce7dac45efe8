using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Xunit;

namespace Distill.Tests;

/// <summary>
/// The fixtures in <c>tests/fixtures/</c> are exactly the files its README lists (size and SHA-256), so a reference
/// output cannot change unnoticed; where the origin copies are present (CI), each equals its origin byte for byte.
/// </summary>
public partial class FixtureChecksumTests
{
    private static readonly string Readme = Path.Combine(TestPaths.Fixtures, "README.md");

    [GeneratedRegex(@"^\| `(?<file>[^`]+)` \| (?<bytes>[0-9,]+) \| `(?<sha>[0-9a-f]{64})` \|", RegexOptions.Multiline)]
    private static partial Regex Row();

    private static Dictionary<string, (long Bytes, string Sha)> Listed() =>
        Row().Matches(File.ReadAllText(Readme)).ToDictionary(m => m.Groups["file"].Value,
            m => (long.Parse(m.Groups["bytes"].Value.Replace(",", ""), CultureInfo.InvariantCulture), m.Groups["sha"].Value));

    private static List<string> OnDisk() =>
        Directory.EnumerateFiles(TestPaths.Fixtures, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(TestPaths.Fixtures, f).Replace('\\', '/'))
            .Where(f => f != "README.md").Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void EveryFixtureIsListedWithItsSizeAndSha256()
    {
        var listed = Listed();
        Assert.True(listed.Count >= 60, $"tests/fixtures/README.md lists only {listed.Count} files");
        Assert.Equal(listed.Keys.Order(StringComparer.Ordinal), OnDisk());
        foreach (var (file, (bytes, sha)) in listed)
        {
            var data = File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, file));
            Assert.True(bytes == data.LongLength, $"{file}: {data.LongLength} bytes, README lists {bytes}");
            Assert.True(sha == Convert.ToHexStringLower(SHA256.HashData(data)), $"{file}: sha256 differs from README's");
        }
    }

    [SharedDataFact]
    public void EveryFixtureEqualsItsOriginCopy()
    {
        foreach (string file in OnDisk())
        {
            string origin = Path.Combine(TestPaths.SharedData, file.StartsWith("hf/", StringComparison.Ordinal) ? file[3..] : file);
            Assert.True(File.Exists(origin), $"{file}: no origin copy at {origin}");
            Assert.Equal(File.ReadAllBytes(origin), File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, file)));
        }
    }
}
