using Distill.Caching;
using Distill.Data;
using Distill.Models;
using Distill.Models.Bert;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Caching;

/// <summary>
/// Building the teacher cache: by similar-length batches (written back in example order) it holds the same bytes as
/// the build in index order (attention maps to the last bit of the softmax); built as 3 shards and merged, the same bytes as the single-process build; a build reports
/// progress with examples/s and an ETA; incomplete or mixed shard sets are refused with nothing written.
/// </summary>
public sealed class CacheBuildTests : IDisposable
{
    private const int Examples = 40, MaxTokens = 13, Batch = 4;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "distill-tests", "cache-build-" + Guid.NewGuid().ToString("N"));
    private readonly BertForSequenceClassification _teacher;

    // hidden states 0 and 2, attention maps 0 and 1: token entries (ragged) besides the logits.
    private static readonly TeacherNeeds Needs = new([], [0, 2], [0, 1]);
    private static readonly TeacherCacheSpec Fp32 = new() { Encoding = CacheEncoding.Fp32 };
    private static readonly TeacherCacheKey Key = new("teacher", "data", "pre", "inputs", "layout");

    public CacheBuildTests()
    {
        _teacher = ParamInit.Build(ParamInit.Seeded(11), () => new BertForSequenceClassification(new BertConfig
        {
            VocabSize = 40, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 32,
            MaxPositionEmbeddings = 16, NumLabels = 2,
        }));
    }

    private string Dir(string name) => Path.Combine(_root, name);

    // Windows of 2 batches = 8 examples: 5 windows, so 3 shards take 2, 1 and 2 of them... (5·i/3: 0, 1, 3, 5).
    private static CacheBuildSettings Settings(bool buckets = true, TextWriter? progress = null) =>
        new(Batch) { WindowBatches = 2, LengthBuckets = buckets, Progress = progress, ProgressSeconds = 0 };

    private TeacherCache Single(string dir, IDataset data, CacheBuildSettings settings) =>
        TeacherCache.OpenOrBuild(dir, Key, _teacher, data, Needs, Fp32, settings, CPU);

    /// <summary>Every file of the cache but the manifest, and the manifest without its timings (which differ between any two builds).</summary>
    private static Dictionary<string, byte[]> Contents(string dir)
    {
        var files = Directory.GetFiles(dir).Where(f => Path.GetFileName(f) != CacheManifest.FileName)
            .ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        var m = CacheManifest.TryRead(dir)!;
        files["manifest (untimed)"] = System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(
            m with { BuildSeconds = 0, CreatedUtc = "", BuildExamplesPerSecond = null }, CacheManifest.Json));
        return files;
    }

    /// <param name="tolerance">The fp32 teacher outputs may differ by this much per value; the token counts and the manifest must be identical.</param>
    private static void AssertSameFiles(Dictionary<string, byte[]> expected, Dictionary<string, byte[]> actual, double tolerance = 0)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, bytes) in expected)
        {
            if (bytes.AsSpan().SequenceEqual(actual[name])) continue;
            var x = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            var y = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(actual[name]).ToArray();
            double worst = 0; int count = 0;
            for (int i = 0; i < Math.Min(x.Length, y.Length); i++) { double d = Math.Abs(x[i] - y[i]); if (d > 0) count++; worst = Math.Max(worst, d); }
            Assert.True(name.EndsWith(".bin", StringComparison.Ordinal) && name != TeacherCache.TokenLengthsFile && x.Length == y.Length && worst <= tolerance,
                $"{name} differs: {bytes.Length} vs {actual[name].Length} bytes, {count} values differ, max {worst}");
        }
    }

    [Fact]
    public void TheBuildByLengthBucketsHoldsTheSameBytesAsTheBuildInIndexOrder()
    {
        var inOrder = new RaggedText();
        Single(Dir("in-order"), inOrder, Settings(buckets: false)).Dispose();
        var bucketed = new RaggedText();
        var progress = new StringWriter();
        using (var cache = Single(Dir("bucketed"), bucketed, Settings(progress: progress)))
            Assert.True(cache.Manifest.BuildExamplesPerSecond > 0);

        // The teacher really saw other batches: sorted by length within each window, so padded less. Per window of 2
        // batches the bucketed build reads the token counts first (2 calls in index order), then runs the teacher (2 calls).
        var inOrderTeacher = inOrder.Calls;
        var bucketedTeacher = bucketed.Calls.Where((_, k) => k % 4 >= 2).ToList();
        Assert.Equal(2 * inOrderTeacher.Count, bucketed.Calls.Count);
        Assert.All(inOrderTeacher, c => Assert.Equal(c.Indices.Order(), c.Indices));
        Assert.Contains(bucketedTeacher, c => !c.Indices.SequenceEqual(c.Indices.Order()));
        long Padding(IEnumerable<(int[] Indices, int Tokens)> calls) => calls.Sum(c => (long)c.Indices.Length * c.Tokens);
        Assert.True(Padding(bucketedTeacher) < Padding(inOrderTeacher), $"{Padding(bucketedTeacher)} padded tokens vs {Padding(inOrderTeacher)}");
        Assert.Equal(Enumerable.Range(0, Examples), bucketedTeacher.SelectMany(c => c.Indices).Order());

        var a = Contents(Dir("in-order"));
        Assert.Contains(TeacherCache.TokenLengthsFile, a.Keys);
        Assert.Equal(7, a.Count); // logits, 2 hidden states, 2 attention maps, token lengths, manifest
        // The same records at the same offsets (token counts and manifest byte-identical); the fp32 values agree to their
        // last bits only: each softmax sums over the batch's padded length, whose zero-weight padded keys change the order
        // of the float sum (measured here: a few ulp, ≤ 3e-7). Shards run the same batches as one build: byte-identical (below).
        AssertSameFiles(a, Contents(Dir("bucketed")), tolerance: 1e-6);

        string lines = progress.ToString();
        Assert.Contains($"{Examples}/{Examples} examples (100 %)", lines);
        Assert.Contains("examples/s", lines);
        Assert.Contains("ETA", lines); // the lines before the last one
    }

    [Fact]
    public void ThreeShardsMergeIntoTheBytesOfTheSingleProcessBuild()
    {
        Single(Dir("single"), new RaggedText(), Settings()).Dispose();
        string dir = Dir("sharded");
        var ranges = new List<(int, int)>();
        for (int i = 0; i < 3; i++)
        {
            var shard = new CacheShard(i, 3);
            ranges.Add(shard.Range(Examples, Settings().WindowExamples));
            CacheShards.Build(dir, shard, Key, _teacher, new RaggedText(), Needs, Fp32, Settings(), CPU);
        }
        Assert.Equal([(0, 8), (8, 24), (24, 40)], ranges);
        Assert.False(Directory.Exists(dir));
        var merged = CacheShards.Merge(dir, Key, Examples);
        Assert.Equal(Examples, merged.Count);
        AssertSameFiles(Contents(Dir("single")), Contents(dir));

        // A run finding the shards merges them instead of running the teacher.
        string again = Dir("run-merges");
        foreach (var shardDir in Directory.GetDirectories(CacheShards.Folder(dir)))
            CopyFolder(shardDir, Path.Combine(CacheShards.Folder(again), Path.GetFileName(shardDir)));
        var counting = new RaggedText();
        using var cache = Single(again, counting, Settings());
        Assert.True(cache.Merged);
        Assert.Empty(counting.Calls);
        AssertSameFiles(Contents(Dir("single")), Contents(again));
    }

    [Fact]
    public void AMissingShardMixedBuildsAndAnOtherKeyAreRefusedWithNothingWritten()
    {
        string dir = Dir("broken");
        CacheShards.Build(dir, new CacheShard(0, 3), Key, _teacher, new RaggedText(), Needs, Fp32, Settings(), CPU);
        CacheShards.Build(dir, new CacheShard(2, 3), Key, _teacher, new RaggedText(), Needs, Fp32, Settings(), CPU);
        var missing = Assert.Throws<TeacherCacheException>(() => CacheShards.Merge(dir, Key, Examples));
        Assert.Contains("1 of 3 shards missing (1/3)", missing.Message);
        Assert.Contains("--shard i/3", missing.Message);
        Assert.False(Directory.Exists(dir));
        // The run does not fall back to a silent full build either.
        Assert.Throws<TeacherCacheException>(() => Single(dir, new RaggedText(), Settings()));
        Assert.False(Directory.Exists(dir));

        CacheShards.Build(dir, new CacheShard(1, 2), Key, _teacher, new RaggedText(), Needs, Fp32, Settings(), CPU);
        var mixed = Assert.Throws<TeacherCacheException>(() => CacheShards.Merge(dir, Key, Examples));
        Assert.Contains("different builds", mixed.Message);
        Assert.False(Directory.Exists(dir));

        string other = Dir("other-key");
        var otherKey = Key with { Teacher = "another teacher" };
        CacheShards.Build(other, new CacheShard(0, 2), Key, _teacher, new RaggedText(), Needs, Fp32, Settings(), CPU);
        CacheShards.Build(other, new CacheShard(1, 2), otherKey, _teacher, new RaggedText(), Needs, Fp32, Settings(), CPU);
        var keys = Assert.Throws<TeacherCacheException>(() => CacheShards.Merge(other, null, null));
        Assert.Contains("another teacher, data or layout", keys.Message);
        Assert.False(Directory.Exists(other));
        Assert.DoesNotContain(Directory.GetDirectories(_root), d => d.Contains(".merging-", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("3/3", "0 to 2")]
    [InlineData("-1/3", "0 to 2")]
    [InlineData("1", "expected i/N")]
    [InlineData("a/b", "expected i/N")]
    [InlineData("0/0", "expected i/N")]
    public void AShardOutOfRangeIsRefused(string text, string fragment) =>
        Assert.Contains(fragment, Assert.Throws<FormatException>(() => CacheShard.Parse(text)).Message);

    [Fact]
    public void MoreShardsThanWindowsIsRefusedBeforeAnythingIsWritten()
    {
        var e = Assert.Throws<TeacherCacheException>(() =>
            CacheShards.Build(Dir("many"), new CacheShard(0, 6), Key, _teacher, new RaggedText(), Needs, Fp32, Settings(), CPU));
        Assert.Contains("at most 5 shards", e.Message);
        Assert.False(Directory.Exists(CacheShards.Folder(Dir("many"))));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }

    public void Dispose()
    {
        _teacher.Dispose();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    /// <summary>Token ids of 2..13 real tokens per example, right-padded (id 0, mask 0) to the batch's longest; records every batch read and its padded length.</summary>
    private sealed class RaggedText : IDataset
    {
        public List<(int[] Indices, int Tokens)> Calls { get; } = [];

        public int Count => Examples;
        public int NumClasses => 2;
        public int Label(int index) => index % 2;

        private static int Length(int index) => 2 + index * 5 % (MaxTokens - 1);

        public Batch GetBatch(ReadOnlySpan<int> indices)
        {
            int[] picked = indices.ToArray();
            int t = 0;
            foreach (int i in indices) t = Math.Max(t, Length(i));
            Calls.Add((picked, t));
            var ids = new long[indices.Length * t];
            var mask = new long[indices.Length * t];
            for (int b = 0; b < indices.Length; b++)
                for (int j = 0; j < Length(indices[b]); j++)
                {
                    ids[b * t + j] = 1 + (indices[b] * 13 + j * 5) % 39;
                    mask[b * t + j] = 1;
                }
            return new Batch(new Dictionary<string, Tensor>
            {
                ["input_ids"] = torch.tensor(ids, [indices.Length, t]),
                ["attention_mask"] = torch.tensor(mask, [indices.Length, t]),
                ["token_type_ids"] = torch.zeros([indices.Length, t], ScalarType.Int64),
            }, torch.tensor(picked.Select(i => (long)Label(i)).ToArray()));
        }
    }
}
