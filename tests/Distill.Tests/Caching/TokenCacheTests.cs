using Distill.Caching;
using Distill.Data;
using Distill.Losses;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Caching;

/// <summary>
/// The teacher cache on text batches padded to their longest example: hidden states and attention maps are stored at
/// each example's real token count, and any batch (other examples beside it, another padded length) gets the teacher's
/// values at its real tokens and zeros at its padding. Checked against the live teacher on the same batch.
/// </summary>
public sealed class TokenCacheTests : IDisposable
{
    private const int Examples = 24, MaxTokens = 11;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "distill-tests", "token-cache-" + Guid.NewGuid().ToString("N"));
    private readonly BertForSequenceClassification _teacher, _student;

    public TokenCacheTests()
    {
        var init = ParamInit.Seeded(5);
        _teacher = ParamInit.Build(init, () => new BertForSequenceClassification(Config(hidden: 16, layers: 4)));
        _student = ParamInit.Build(init, () => new BertForSequenceClassification(Config(hidden: 8, layers: 2)));
        _teacher.eval();
    }

    private static BertConfig Config(int hidden, int layers) => new()
    {
        VocabSize = 40, HiddenSize = hidden, NumHiddenLayers = layers, NumAttentionHeads = 2, IntermediateSize = 2 * hidden,
        MaxPositionEmbeddings = 16, NumLabels = 2,
    };

    private string CacheDir => Path.Combine(_root, "cache");

    private static readonly TeacherCacheKey Key = new("teacher", "data", "pre", "inputs", "layout");

    private List<ILossTerm> Terms(bool maskPadding)
    {
        long[] inputs = [MaxTokens];
        var shapes = ShapeProbe.Measure(_student, _teacher,
            [new InputSpec("input_ids", inputs, ScalarType.Int64), new InputSpec("attention_mask", inputs, ScalarType.Int64),
             new InputSpec("token_type_ids", inputs, ScalarType.Int64)]);
        return ParamInit.Build(ParamInit.Seeded(9), () => new List<ILossTerm>
        {
            LossRegistry.Default.Create(new SoftTargetSpec { Temperature = 2, Alpha = 0.5 }, shapes),
            LossRegistry.Default.Create(new HiddenMseSpec { MaskPadding = maskPadding }, shapes),
            LossRegistry.Default.Create(new AttentionSpec(), shapes),
        });
    }

    private TeacherCache Build(IReadOnlyList<ILossTerm> terms, CacheEncoding encoding = CacheEncoding.Fp32) =>
        TeacherCache.OpenOrBuild(CacheDir, Key, _teacher, new RaggedText(), TeacherNeeds.From(terms),
            new TeacherCacheSpec { Encoding = encoding }, batchSize: 5, torch.CPU);

    // Mixed from different build batches (built 5 at a time in index order), so this batch pads to another length.
    private static readonly int[] Picks = [7, 0, 13, 22, 3];

    [Fact]
    public void HiddenStatesAndAttentionMapsMatchTheLiveTeacherAtTheRealTokens()
    {
        var terms = Terms(maskPadding: true);
        using var cache = Build(terms);
        using var scope = torch.NewDisposeScope();
        var batch = new IndexedDataset(new RaggedText()).GetBatch(Picks);
        var cached = cache.Lookup(batch, torch.CPU).Output;
        _teacher.OutputAttentions = true;
        ModelOutput live;
        using (torch.no_grad()) live = _teacher.call(batch);
        var needs = TeacherNeeds.From(terms);
        long t = batch["attention_mask"].shape[1];
        Assert.True(needs.HiddenLayers.Count > 0 && needs.AttentionLayers.Count > 0);
        for (int b = 0; b < Picks.Length; b++)
        {
            int real = RaggedText.Length(Picks[b]);
            foreach (int i in needs.HiddenLayers)
            {
                var c = cached.HiddenStates[i];
                Assert.Equal([Picks.Length, t, 16L], c.shape);
                Assert.True(MaxDiff(c[b].narrow(0, 0, real), live.HiddenStates[i][b].narrow(0, 0, real)) < 1e-5);
                if (real < t) Assert.Equal(0.0, c[b].narrow(0, real, t - real).abs().max().item<float>());
            }
            foreach (int i in needs.AttentionLayers)
            {
                var c = cached.Attentions[i];
                Assert.Equal([Picks.Length, 2L, t, t], c.shape);
                Assert.True(MaxDiff(c[b].narrow(1, 0, real).narrow(2, 0, real), live.Attentions[i][b].narrow(1, 0, real).narrow(2, 0, real)) < 1e-5);
                // The live teacher gives padded key columns no weight either, so the zeros there are its values too.
                if (real < t) Assert.True(live.Attentions[i][b].narrow(1, 0, real).narrow(2, real, t - real).abs().max().item<float>() < 1e-6);
            }
        }
        Assert.True(MaxDiff(cached.Logits, live.Logits) < 1e-5);
    }

    [Fact]
    public void TheFilesHoldOnlyTheRealTokens()
    {
        using var cache = Build(Terms(maskPadding: true));
        var lengths = File.ReadAllBytes(Path.Combine(CacheDir, TeacherCache.TokenLengthsFile));
        Assert.Equal(4 * Examples, lengths.Length);
        var hidden = cache.Manifest.Entries.First(e => e.Name.StartsWith("hidden:", StringComparison.Ordinal));
        Assert.Equal([0], hidden.TokenAxes!);
        Assert.Equal([-1L, 16], hidden.Shape);
        long realTokens = Enumerable.Range(0, Examples).Sum(RaggedText.Length);
        Assert.Equal(realTokens * 16 * 4, new FileInfo(Path.Combine(CacheDir, hidden.File)).Length); // fp32, D = 16
        var attention = cache.Manifest.Entries.First(e => e.Name.StartsWith("attention:", StringComparison.Ordinal));
        Assert.Equal([1, 2], attention.TokenAxes!);
        long squares = Enumerable.Range(0, Examples).Sum(i => (long)RaggedText.Length(i) * RaggedText.Length(i));
        Assert.Equal(squares * 2 * 4, new FileInfo(Path.Combine(CacheDir, attention.File)).Length); // 2 heads
    }

    [Fact]
    public void ObjectiveWithTheCacheComputesTheSameLossAsWithTheTeacher()
    {
        var terms = Terms(maskPadding: true);
        using var cache = Build(terms);
        using var scope = torch.NewDisposeScope();
        var batch = new IndexedDataset(new RaggedText()).GetBatch(Picks);
        _student.eval(); // dropout would draw different masks in the two calls
        using var direct = new DistillObjective(_teacher, terms);
        using var cached = new DistillObjective(_teacher, terms, cache);
        var a = direct.Compute(_student, batch);
        var b = cached.Compute(_student, batch);
        Assert.Equal(3, a.Terms.Count);
        for (int i = 0; i < a.Terms.Count; i++)
        {
            Assert.True(a.Terms[i].Value.item<float>() > 0);
            Assert.True(Math.Abs(a.Terms[i].Value.item<float>() - b.Terms[i].Value.item<float>()) < 1e-5, $"{a.Terms[i].Name}: {a.Terms[i].Value.item<float>()} vs {b.Terms[i].Value.item<float>()}");
        }
    }

    [Fact]
    public void Int8AndFp16StoreRaggedRecordsToo()
    {
        foreach (var encoding in new[] { CacheEncoding.Fp16, CacheEncoding.Int8 })
        {
            var terms = Terms(maskPadding: true);
            using var cache = Build(terms, encoding);
            using var scope = torch.NewDisposeScope();
            var batch = new IndexedDataset(new RaggedText()).GetBatch(Picks);
            var cached = cache.Lookup(batch, torch.CPU).Output;
            _teacher.OutputAttentions = true;
            ModelOutput live;
            using (torch.no_grad()) live = _teacher.call(batch);
            int last = TeacherNeeds.From(terms).HiddenLayers[^1];
            for (int b = 0; b < Picks.Length; b++)
            {
                int real = RaggedText.Length(Picks[b]);
                var c = cached.HiddenStates[last][b].narrow(0, 0, real);
                var l = live.HiddenStates[last][b].narrow(0, 0, real);
                // fp16: 2^-11 relative; int8: per-token scale max|x|/127, so half a step of the token's largest value.
                double bound = encoding == CacheEncoding.Fp16 ? 1e-3 * l.abs().max().item<float>() : 0.51 * l.abs().amax([1]).max().item<float>() / 127;
                Assert.True(MaxDiff(c, l) <= bound, $"{encoding}: {MaxDiff(c, l)} > {bound}");
            }
            Directory.Delete(CacheDir, recursive: true);
        }
    }

    [Fact]
    public void AnUnmaskedHiddenMseTermIsRefusedWithTheFixAndNothingIsLeft()
    {
        // It compares padded positions, so the cache keeps fixed shapes, which batches of different lengths do not have.
        var e = Assert.Throws<TeacherCacheException>(() => Build(Terms(maskPadding: false)));
        Assert.Contains("in another", e.Message);
        Assert.Contains("'hidden_mse'", e.Message);
        Assert.Contains("mask_padding: true", e.Message);
        Assert.False(Directory.Exists(CacheDir));
        Assert.Empty(Directory.Exists(_root) ? Directory.GetFileSystemEntries(_root) : []);
    }

    [Fact]
    public void ADamagedTokenLengthsFileIsRefusedOnOpenAndRebuilt()
    {
        var terms = Terms(maskPadding: true);
        Build(terms).Dispose();
        string path = Path.Combine(CacheDir, TeacherCache.TokenLengthsFile);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^4]);
        var open = Assert.Throws<TeacherCacheException>(() => TeacherCache.Open(CacheDir));
        Assert.Contains(TeacherCache.TokenLengthsFile, open.Message);
        Assert.Contains("delete", open.Message);
        using var rebuilt = Build(terms);
        Assert.True(rebuilt.Built);
        Assert.Contains(TeacherCache.TokenLengthsFile, rebuilt.BuildReason);
    }

    [Fact]
    public void AnUnmaskedHiddenMseTermStillWorksOnFixedLengthText()
    {
        var terms = Terms(maskPadding: false);
        using var cache = TeacherCache.OpenOrBuild(CacheDir, Key, _teacher, new RaggedText(fixedLength: MaxTokens), TeacherNeeds.From(terms),
            new TeacherCacheSpec(), batchSize: 5, torch.CPU);
        Assert.All(cache.Manifest.Entries, e => Assert.Null(e.TokenAxes));
        Assert.False(File.Exists(Path.Combine(CacheDir, TeacherCache.TokenLengthsFile)));
        using var scope = torch.NewDisposeScope();
        var batch = new IndexedDataset(new RaggedText(fixedLength: MaxTokens)).GetBatch(Picks);
        _student.eval();
        using var direct = new DistillObjective(_teacher, terms);
        using var cached = new DistillObjective(_teacher, terms, cache);
        var a = direct.Compute(_student, batch);
        var b = cached.Compute(_student, batch);
        for (int i = 0; i < a.Terms.Count; i++)
            Assert.True(Math.Abs(a.Terms[i].Value.item<float>() - b.Terms[i].Value.item<float>()) < 1e-5, a.Terms[i].Name);
    }

    [Fact]
    public void WhetherTextIsStoredAtItsRealTokensIsPartOfTheKey()
    {
        Directory.CreateDirectory(_root);
        var data = new TeacherCacheData("sst2", _root, "train", null, 42, "{}", 64, null);
        TeacherCacheKey KeyFor(bool mask) => TeacherCacheKey.Compute(_teacher, new RaggedText(), data,
            TeacherNeeds.From(Terms(mask)), CacheEncoding.Fp32, null);
        var masked = KeyFor(mask: true);
        var unmasked = KeyFor(mask: false);
        Assert.Equal(["cached outputs (encoding, top_k or loss terms)"], masked.Differences(unmasked));
        Assert.Empty(masked.Differences(KeyFor(mask: true)));
    }

    [Fact]
    public void LeftPaddedTextIsRefused()
    {
        var terms = Terms(maskPadding: true);
        var e = Assert.Throws<TeacherCacheException>(() => TeacherCache.OpenOrBuild(CacheDir, Key, _teacher, new RaggedText(leftPadded: true),
            TeacherNeeds.From(terms), new TeacherCacheSpec(), batchSize: 5, torch.CPU));
        Assert.Contains("pad on the right", e.Message);
    }

    private static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    public void Dispose()
    {
        _teacher.Dispose();
        _student.Dispose();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    /// <summary>Token ids of 2..11 real tokens per example, batches padded (id 0, mask 0) to their longest example or to a fixed length.</summary>
    private sealed class RaggedText(bool leftPadded = false, int? fixedLength = null) : IDataset
    {
        public int Count => Examples;
        public int NumClasses => 2;
        public int Label(int index) => index % 2;

        public static int Length(int index) => 2 + index * 7 % (MaxTokens - 1);

        public Batch GetBatch(ReadOnlySpan<int> indices)
        {
            int t = fixedLength ?? 0;
            foreach (int i in indices) t = Math.Max(t, Length(i));
            var ids = new long[indices.Length * t];
            var mask = new long[indices.Length * t];
            var labels = new long[indices.Length];
            for (int b = 0; b < indices.Length; b++)
            {
                int n = Length(indices[b]), pad = leftPadded ? t - n : 0;
                for (int j = 0; j < n; j++)
                {
                    ids[b * t + pad + j] = 1 + (indices[b] * 13 + j * 5) % 39;
                    mask[b * t + pad + j] = 1;
                }
                labels[b] = Label(indices[b]);
            }
            return new Batch(new Dictionary<string, Tensor>
            {
                ["input_ids"] = torch.tensor(ids, [indices.Length, t]),
                ["attention_mask"] = torch.tensor(mask, [indices.Length, t]),
                ["token_type_ids"] = torch.zeros([indices.Length, t], ScalarType.Int64),
            }, torch.tensor(labels));
        }
    }
}
