using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Distill.Data;
using Distill.Data.Cifar10;
using Distill.Recipes;
using Xunit;

namespace Distill.Tests.Recipes;

/// <summary>The converted copies in <c>data/own/</c> (data/README.md): their checksums, and that the new dataset kinds open them as the recipes do.</summary>
public partial class OwnDataShippedTests
{
    private static readonly string Own = Path.Combine(TestPaths.Data, "own");

    [GeneratedRegex(@"(?<folder>own/[a-z0-9-]+) sha256 \((?<files>[0-9,]+) files, (?<bytes>[0-9,]+) bytes\): `(?<sha>[0-9a-f]{64})`")]
    private static partial Regex FolderChecksum();

    [Fact]
    public void TheFoldersHaveTheChecksumsTheReadmeLists()
    {
        var rows = FolderChecksum().Matches(File.ReadAllText(Path.Combine(TestPaths.Data, "README.md")));
        Assert.Equal(["own/cifar10-png", "own/fsdd-wav"], rows.Select(m => m.Groups["folder"].Value));
        foreach (Match row in rows)
        {
            string root = Path.Combine(TestPaths.Data, row.Groups["folder"].Value);
            var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long bytes = 0;
            foreach (var f in files)
            {
                var b = File.ReadAllBytes(Path.Combine(root, f));
                sha.AppendData(b);
                bytes += b.Length;
            }
            Assert.Equal(int.Parse(row.Groups["files"].Value.Replace(",", "")), files.Count);
            Assert.Equal(long.Parse(row.Groups["bytes"].Value.Replace(",", "")), bytes);
            Assert.Equal(row.Groups["sha"].Value, Convert.ToHexStringLower(sha.GetHashAndReset()));
        }
    }

    [Fact]
    public void TheTextImageAndAudioCopiesOpenWithTheirKinds()
    {
        var text = new DataSpec
        {
            Dataset = "text_classification", Path = Path.Combine(Own, "sst2-text"), TextColumn = "sentence", Labels = ["negative", "positive"],
            Tokenizer = TestPaths.Tokenizer, EvalSplits = ["validation", "test"],
        };
        var kind = DatasetRegistry.Default.Get("text_classification");
        Assert.Empty(kind.Validate(text));
        var train = kind.Open(text, "train");
        Assert.Equal(400, train.Count);
        Assert.Equal(200, Enumerable.Range(0, 400).Count(i => train.Label(i) == 1));
        Assert.Equal(200, kind.Open(text, "validation").Count);
        var test = kind.Open(text, "test");
        Assert.Equal(200, test.Count);
        Assert.Equal(["negative", "positive"], test.ClassNames);

        var images = new DataSpec { Dataset = "image_folder", Path = Path.Combine(Own, "cifar10-png"), EvalSplit = "test" };
        var imageTrain = DatasetRegistry.Default.Get("image_folder").Open(images, "train");
        Assert.Equal(200, imageTrain.Count);
        Assert.Equal(Cifar10Dataset.ClassNames, imageTrain.ClassNames);
        // The PNGs hold exactly the records' pixels: the first training image of 'airplane' is train.bin's first airplane record.
        var cifar = Cifar10Dataset.Open(Path.Combine(TestPaths.Data, "cifar10"), "train", null, null);
        int first = Enumerable.Range(0, cifar.Count).First(i => cifar.Label(i) == 0);
        Assert.Equal(cifar.GetBatch([first])["pixel_values"].data<float>().ToArray(), imageTrain.GetBatch([0])["pixel_values"].data<float>().ToArray());

        var audio = new DataSpec { Dataset = "audio_folder", Path = Path.Combine(Own, "fsdd-wav"), EvalSplit = "test" };
        var audioKind = DatasetRegistry.Default.Get("audio_folder");
        Assert.Equal(100, audioKind.Open(audio, "train").Count);
        Assert.Equal(50, audioKind.Open(audio, "test").Count);
    }
}
