using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Distill.Data;
using Distill.Data.Cifar10;
using Distill.Data.Fsdd;
using Distill.Data.Sst2;
using Distill.Recipes;
using Xunit;

namespace Distill.Tests.Recipes;

/// <summary>
/// The datasets shipped in <c>data/</c> for the recipes: each is checked against the sizes and checksums that
/// <c>data/README.md</c> lists and opens with its dataset loader; where the origin copies are present
/// (<c>../shared/data</c>, as in CI) also against the source files it was cut from, by redoing the selection rule.
/// </summary>
public partial class ShippedDataTests
{
    private static readonly string Data = Path.Combine(TestPaths.RepoRoot, "data");
    private static readonly string Readme = Path.Combine(Data, "README.md");

    /// <summary>Records kept per class by the CIFAR-10 subset rule (data/README.md).</summary>
    private const int CifarTrainPerClass = 400, CifarTestPerClass = 100;

    /// <summary>FSDD recordings kept: file index 0..this (0-4 = test, 5.. = train).</summary>
    private const int FsddMaxIndex = 24;

    [GeneratedRegex(@"^\| `(?<file>[^`]+)` \| (?<bytes>[0-9,]+) \| `(?<sha>[0-9a-f]{64})` \|", RegexOptions.Multiline)]
    private static partial Regex ChecksumRow();

    [GeneratedRegex(@"FSDD wav sha256: `(?<sha>[0-9a-f]{64})`")]
    private static partial Regex FsddChecksum();

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public void EveryFileListedInTheReadmeHasItsSizeAndSha256()
    {
        var rows = ChecksumRow().Matches(File.ReadAllText(Readme));
        var listed = rows.Select(m => m.Groups["file"].Value).ToHashSet();
        foreach (var required in new[]
                 {
                     "sst2/train.tsv", "sst2/dev.tsv", "bert-base-uncased-tokenizer/vocab.txt", "bert-base-uncased-tokenizer/tokenizer_config.json",
                     "cifar10/train.bin", "cifar10/test.bin", "cifar10/train_index.tsv", "cifar10/test_index.tsv", "cifar10/batches.meta.txt",
                 })
            Assert.Contains(required, listed);
        foreach (Match row in rows)
        {
            string path = Path.Combine(Data, row.Groups["file"].Value);
            Assert.True(File.Exists(path), $"data/README.md lists {row.Groups["file"].Value}, which is missing");
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(long.Parse(row.Groups["bytes"].Value.Replace(",", ""), CultureInfo.InvariantCulture), bytes.LongLength);
            Assert.Equal(row.Groups["sha"].Value, Sha256(bytes));
        }
    }

    [SharedDataFact]
    public void Sst2AndTheVocabularyAreByteCopiesOfTheSharedFiles()
    {
        foreach (var (shipped, source) in new[]
                 {
                     ("sst2/train.tsv", "sst2/train.tsv"), ("sst2/dev.tsv", "sst2/dev.tsv"),
                     ("bert-base-uncased-tokenizer/vocab.txt", "bert-base-uncased-tokenizer/vocab.txt"),
                     ("bert-base-uncased-tokenizer/tokenizer_config.json", "bert-base-uncased-tokenizer/tokenizer_config.json"),
                 })
            Assert.Equal(File.ReadAllBytes(Path.Combine(TestPaths.SharedData, source)), File.ReadAllBytes(Path.Combine(Data, shipped)));
    }

    [Fact]
    public void Sst2HasTheChecksumsAndRowCountsOfTheOriginals()
    {
        // The checksums SOURCES.md gives for the originals.
        Assert.Equal("e981ceb4fe6c9acd1c79851d0d091b9e78103f1f2a399ca83dda27915d41c56c", Sha256(File.ReadAllBytes(Path.Combine(Data, "sst2/train.tsv"))));
        Assert.Equal("84207e6be5873fb18db798cc6faec86871f5a426554650ff64a1c34e87665f6f", Sha256(File.ReadAllBytes(Path.Combine(Data, "sst2/dev.tsv"))));
        Assert.Equal(67_349, Sst2Dataset.ReadTsv(Path.Combine(Data, "sst2/train.tsv")).Count);
        Assert.Equal(872, Sst2Dataset.ReadTsv(Path.Combine(Data, "sst2/dev.tsv")).Count);
    }

    [SharedDataTheory]
    [InlineData("train", "train_subset_10k", CifarTrainPerClass)]
    [InlineData("test", "test_5k", CifarTestPerClass)]
    public void CifarSubsetIsTheFirstRecordsOfEachClassOfTheSharedFile(string split, string source, int perClass)
    {
        // Redo the rule independently: walk the source records in order, keep a record while its class has < perClass.
        var src = File.ReadAllBytes(Path.Combine(TestPaths.SharedData, "cifar10", source + ".bin"));
        const int r = Cifar10Dataset.RecordBytes;
        var expected = new List<byte>();
        var kept = new List<int>();
        var counts = new int[10];
        for (int i = 0; i < src.Length / r; i++)
            if (counts[src[i * r]] < perClass)
            {
                counts[src[i * r]]++;
                kept.Add(i);
                expected.AddRange(src.AsSpan(i * r, r).ToArray());
            }
        Assert.All(counts, c => Assert.Equal(perClass, c));
        Assert.Equal(expected.ToArray(), File.ReadAllBytes(Path.Combine(Data, "cifar10", split + ".bin")));

        // The index names each record's source record and file, as the shared index does.
        var sharedIndex = File.ReadLines(Path.Combine(TestPaths.SharedData, "cifar10", source + "_index.tsv")).Skip(1).Select(l => l.Split('\t')).ToArray();
        var index = File.ReadLines(Path.Combine(Data, "cifar10", split + "_index.tsv")).ToArray();
        Assert.Equal("record_index\tlabel\tsource_record\tsource_file", index[0]);
        Assert.Equal(kept.Count, index.Length - 1);
        for (int j = 0; j < kept.Count; j++)
            Assert.Equal($"{j}\t{sharedIndex[kept[j]][1]}\t{source}.bin:{kept[j]}\t{sharedIndex[kept[j]][2]}", index[j + 1]);

        var data = Cifar10Dataset.Open(Path.Combine(Data, "cifar10"), split, null, null);
        Assert.Equal(10 * perClass, data.Count);
        Assert.Equal(File.ReadAllBytes(Path.Combine(TestPaths.SharedData, "cifar10", "batches.meta.txt")),
            File.ReadAllBytes(Path.Combine(Data, "cifar10", "batches.meta.txt")));
    }

    [SharedDataFact]
    public void FsddSubsetIsEveryRecordingUpToItsIndexLimitWithTheOfficialSplit()
    {
        string sharedDir = Path.Combine(TestPaths.SharedData, "fsdd", "recordings");
        string shippedDir = Path.Combine(Data, "fsdd");
        var expected = Directory.EnumerateFiles(sharedDir, "*.wav").Select(Path.GetFileName)
            .Where(n => int.Parse(n!.Split('_')[2][..^4], CultureInfo.InvariantCulture) <= FsddMaxIndex).Order(StringComparer.Ordinal).ToList();
        var shipped = Directory.EnumerateFiles(shippedDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, shipped);
        using var all = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in shipped)
        {
            var bytes = File.ReadAllBytes(Path.Combine(shippedDir, name!));
            Assert.Equal(File.ReadAllBytes(Path.Combine(sharedDir, name!)), bytes);
            all.AppendData(bytes);
        }
        var documented = FsddChecksum().Match(File.ReadAllText(Readme));
        Assert.True(documented.Success, "data/README.md gives no 'FSDD wav sha256'");
        Assert.Equal(documented.Groups["sha"].Value, Convert.ToHexStringLower(all.GetHashAndReset()));
    }

    [Fact]
    public void ShippedFsddHasTheOfficialSplitAndTheDocumentedChecksum()
    {
        string shippedDir = Path.Combine(Data, "fsdd");
        using var all = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in Directory.EnumerateFiles(shippedDir).Select(Path.GetFileName).Order(StringComparer.Ordinal))
            all.AppendData(File.ReadAllBytes(Path.Combine(shippedDir, name!)));
        Assert.Equal(FsddChecksum().Match(File.ReadAllText(Readme)).Groups["sha"].Value, Convert.ToHexStringLower(all.GetHashAndReset()));

        var test = FsddDataset.Open(shippedDir, "test");
        var train = FsddDataset.Open(shippedDir, "train");
        Assert.Equal(5 * 10 * 5, test.Count);                       // 5 speakers × 10 digits × index 0-4
        Assert.Equal(5 * 10 * (FsddMaxIndex - 4), train.Count);     // 5 speakers × 10 digits × index 5..max
        for (int d = 0; d < 10; d++)
        {
            Assert.Equal(25, Enumerable.Range(0, test.Count).Count(i => test.Label(i) == d));
            Assert.Equal(5 * (FsddMaxIndex - 4), Enumerable.Range(0, train.Count).Count(i => train.Label(i) == d));
        }
    }

    [Fact]
    public void CifarFolderHoldingBothNamesOfASplitIsAnError()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cifar-both-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var record = new byte[Cifar10Dataset.RecordBytes];
            File.WriteAllBytes(Path.Combine(dir, "test.bin"), record);
            Assert.Equal(1, Cifar10Dataset.Open(dir, "test", null, null).Count);

            File.WriteAllBytes(Path.Combine(dir, "test_5k.bin"), record);
            var e = Assert.Throws<InvalidDataException>(() => Cifar10Dataset.Open(dir, "test", null, null));
            Assert.Contains("test_5k.bin", e.Message);
            Assert.Contains("test.bin", e.Message);
            var spec = new DataSpec { Dataset = "cifar10", Path = dir, TrainSplit = "test", EvalSplit = "test" };
            Assert.Contains(DatasetRegistry.Default.Get("cifar10").Validate(spec), p => p.Key == "path" && p.Message.Contains("both"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
