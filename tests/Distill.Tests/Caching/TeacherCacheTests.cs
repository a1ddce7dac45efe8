using Distill.Caching;
using Distill.Data;
using Distill.Models;
using Distill.Recipes;
using Distill.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Caching;

public class TeacherCacheTests
{
    private static readonly int[] Picks = [5, 0, 39, 17, 17];

    /// <summary>The teacher's outputs for <paramref name="indices"/> computed directly (eval mode, no cache).</summary>
    private static (Tensor Logits, Tensor Hint) Direct(CacheFixture f, IDataset train, int[] indices)
    {
        using var taps = FeatureTaps.Attach(f.Teacher, ["blocks.1"]);
        using var noGrad = torch.no_grad();
        var output = f.Teacher.call(train.GetBatch(indices));
        return (output.Logits.clone(), taps.Features["blocks.1"].clone());
    }

    private static CachedTeacherOutput Lookup(TeacherCache cache, IDataset train, int[] indices) =>
        cache.Lookup(new IndexedDataset(train).GetBatch(indices), torch.CPU);

    [Fact]
    public void Fp32CacheReturnsTheTeachersOutputsForTheBatchExamples()
    {
        using var f = new CacheFixture();
        using var cache = f.OpenOrBuild(CacheEncoding.Fp32);
        var train = f.Train();
        var (logits, hint) = Direct(f, train, Picks);
        var cached = Lookup(cache, train, Picks);
        Assert.Equal(logits.shape, cached.Output.Logits.shape);
        Assert.True(torch.allclose(logits, cached.Output.Logits, rtol: 0, atol: 1e-5), "logits differ");
        Assert.Equal(new long[] { Picks.Length, 8, 7, 7 }, cached.Features["blocks.1"].shape);
        Assert.True(torch.allclose(hint, cached.Features["blocks.1"], rtol: 0, atol: 1e-5), "hint feature differs");
        Assert.True(cache.Built);
        Assert.Equal(CacheFixture.Examples, cache.Manifest.Count);
    }

    [Fact]
    public void Fp16AndInt8StayWithinTheirQuantisationError()
    {
        using var f = new CacheFixture();
        var train = f.Train();
        var (logits, hint) = Direct(f, train, Picks);
        using (var fp16 = f.OpenOrBuild(CacheEncoding.Fp16, dir: Path.Combine(f.Root, "fp16")))
        {
            var c = Lookup(fp16, train, Picks);
            // fp16 has an 11-bit significand: relative error ≤ 2^-11 (plus subnormal slack near 0).
            Assert.True(((c.Output.Logits - logits).abs() <= logits.abs() * 4.9e-4 + 1e-6).all().item<bool>(), "fp16 logits");
            Assert.True(((c.Features["blocks.1"] - hint).abs() <= hint.abs() * 4.9e-4 + 1e-6).all().item<bool>(), "fp16 hint");
            Assert.Equal(2L * 10, fp16.Manifest.Entries[0].RecordBytes);
        }
        using (var int8 = f.OpenOrBuild(CacheEncoding.Int8, dir: Path.Combine(f.Root, "int8")))
        {
            var c = Lookup(int8, train, Picks);
            // Per-row symmetric scaling: error ≤ s/2 = max|row| / 254 per row. Logits: one row per example; the (C, H, W)
            // hint feature: one row per channel.
            var logitBound = logits.abs().amax([1], keepdim: true) / 254.0 + 1e-6;
            Assert.True(((c.Output.Logits - logits).abs() <= logitBound).all().item<bool>(), "int8 logits");
            var hintBound = hint.abs().amax([2, 3], keepdim: true) / 254.0 + 1e-6;
            Assert.True(((c.Features["blocks.1"] - hint).abs() <= hintBound).all().item<bool>(), "int8 hint");
            Assert.True((c.Features["blocks.1"] - hint).abs().max().item<float>() > 0, "int8 should not be exact on random features");
            Assert.Equal(4L + 10, int8.Manifest.Entries[0].RecordBytes); // one fp32 scale + 10 int8 logits
        }
    }

    [Fact]
    public void TopKKeepsTheLargestLogitsAndTheTailMass()
    {
        using var f = new CacheFixture();
        var train = f.Train();
        var (logits, _) = Direct(f, train, Picks);
        using var cache = f.OpenOrBuild(CacheEncoding.Fp32, topK: 3);
        var decoded = Lookup(cache, train, Picks).Output.Logits;
        var (topV, topI) = logits.topk(3, dim: 1);
        Assert.True(torch.allclose(decoded.gather(1, topI), topV, rtol: 0, atol: 1e-5), "top-k values");
        // Probability mass outside the top 3 at T = 1 equals the true one; inside, the ratios are the true ones.
        var p = logits.softmax(1);
        var q = decoded.softmax(1);
        var trueTail = 1 - p.gather(1, topI).sum(1);
        var cachedTail = 1 - q.gather(1, topI).sum(1);
        Assert.True(torch.allclose(trueTail, cachedTail, rtol: 1e-4, atol: 1e-6), $"tail mass {trueTail.str()} vs {cachedTail.str()}");
        // Every other class gets the same logit (the tail's log-mean-exp).
        var mask = torch.ones_like(decoded, dtype: ScalarType.Bool).scatter_(1, topI, torch.zeros_like(topI, dtype: ScalarType.Bool));
        var others = decoded.masked_select(mask).reshape(Picks.Length, 7);
        Assert.True((others.amax([1]) - others.amin([1])).abs().max().item<float>() < 1e-5);
        // 3 values + 3 int32 indices + 1 tail per example.
        Assert.Equal(3 * 4 + 3 * 4 + 4L, cache.Manifest.Entries[0].RecordBytes);
    }

    [Fact]
    public void SameInputsReuseTheCache()
    {
        using var f = new CacheFixture();
        using (var first = f.OpenOrBuild()) Assert.True(first.Built);
        using var second = f.OpenOrBuild();
        Assert.False(second.Built);
    }

    [Fact]
    public void ChangedTeacherWeightsInvalidateTheCache()
    {
        using var f = new CacheFixture();
        using (f.OpenOrBuild()) { }
        using (torch.no_grad()) f.Teacher.parameters().First().add_(0.01);
        using var again = f.OpenOrBuild();
        Assert.True(again.Built);
        Assert.Contains("teacher weights", again.BuildReason);
        Assert.DoesNotContain("training data", again.BuildReason);
        // The rebuilt cache holds the new teacher's outputs.
        var train = f.Train();
        Assert.True(torch.allclose(Direct(f, train, Picks).Logits, Lookup(again, train, Picks).Output.Logits, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void ChangedBatchNormStatisticsInvalidateTheCache()
    {
        // Buffers are weights too: a teacher whose running statistics changed gives other outputs.
        using var f = new CacheFixture();
        using (f.OpenOrBuild()) { }
        var runningMean = f.Teacher.named_buffers().First(b => b.name.EndsWith("running_mean", StringComparison.Ordinal)).buffer;
        using (torch.no_grad()) runningMean.add_(0.5);
        using var again = f.OpenOrBuild();
        Assert.True(again.Built);
        Assert.Contains("teacher weights", again.BuildReason);
    }

    [Fact]
    public void ChangedDataInvalidateTheCache()
    {
        using var f = new CacheFixture();
        using (f.OpenOrBuild()) { }
        f.ChangePixel(3);
        using var again = f.OpenOrBuild();
        Assert.True(again.Built);
        Assert.Contains("training data", again.BuildReason);
        Assert.DoesNotContain("teacher weights", again.BuildReason);
        Assert.DoesNotContain("pre-processing settings", again.BuildReason);
    }

    [Fact]
    public void ChangedPreprocessingInvalidatesTheCache()
    {
        using var f = new CacheFixture();
        using (f.OpenOrBuild()) { }
        f.Spec = f.Spec with { Preprocessing = new PreprocessSpec { Mean = [0.5], Std = [0.31] } };
        using var again = f.OpenOrBuild();
        Assert.True(again.Built);
        Assert.Contains("pre-processing settings", again.BuildReason);
        Assert.Contains("pre-processed inputs", again.BuildReason);
        Assert.DoesNotContain("training data", again.BuildReason);
    }

    [Fact]
    public void ChangedEncodingOrTopKRebuilds()
    {
        using var f = new CacheFixture();
        using (f.OpenOrBuild(CacheEncoding.Fp32)) { }
        using (var fp16 = f.OpenOrBuild(CacheEncoding.Fp16))
        {
            Assert.True(fp16.Built);
            Assert.Contains("cached outputs", fp16.BuildReason);
        }
        using var topK = f.OpenOrBuild(CacheEncoding.Fp16, topK: 4);
        Assert.True(topK.Built);
    }

    [Fact]
    public void TruncatedDataFileIsRefusedOnOpenAndRebuilt()
    {
        using var f = new CacheFixture();
        string file;
        using (var c = f.OpenOrBuild()) file = Path.Combine(c.Dir, c.Manifest.Entries[1].File);
        using (var s = new FileStream(file, FileMode.Open)) s.SetLength(s.Length - 3);
        var e = Assert.Throws<TeacherCacheException>(() => TeacherCache.Open(f.CacheDir));
        Assert.Contains(file, e.Message);
        Assert.Contains("delete", e.Message);
        using var rebuilt = f.OpenOrBuild();
        Assert.True(rebuilt.Built);
    }

    [Fact]
    public void FolderWithOtherFilesIsNotOverwritten()
    {
        using var f = new CacheFixture();
        Directory.CreateDirectory(f.CacheDir);
        File.WriteAllText(Path.Combine(f.CacheDir, "notes.txt"), "mine");
        var e = Assert.Throws<TeacherCacheException>(() => f.OpenOrBuild());
        Assert.Contains("notes.txt", e.Message);
        Assert.True(File.Exists(Path.Combine(f.CacheDir, "notes.txt")));
    }

    [Fact]
    public void LookupRefusesIndicesOutsideTheCache()
    {
        using var f = new CacheFixture();
        using var cache = f.OpenOrBuild();
        var batch = new Batch(new Dictionary<string, Tensor>
        {
            ["pixel_values"] = torch.zeros(1, 1, 28, 28),
            [TeacherCache.IndexInput] = torch.tensor(new long[] { CacheFixture.Examples }),
        }, null);
        var e = Assert.Throws<InvalidOperationException>(() => cache.Lookup(batch, torch.CPU));
        Assert.Contains("another training set", e.Message);
    }

    [Fact]
    public void ObjectiveWithTheCacheComputesTheSameLossAsWithTheTeacher()
    {
        using var f = new CacheFixture();
        using var cache = f.OpenOrBuild(CacheEncoding.Fp32);
        var batch = new IndexedDataset(f.Train()).GetBatch(Picks);
        using var direct = new DistillObjective(f.Teacher, f.Terms);
        using var cached = new DistillObjective(f.Teacher, f.Terms, cache);
        using var scope = torch.NewDisposeScope();
        var a = direct.Compute(f.Student, batch);
        var b = cached.Compute(f.Student, batch);
        for (int i = 0; i < a.Terms.Count; i++)
            Assert.Equal(a.Terms[i].Value.item<float>(), b.Terms[i].Value.item<float>(), 4);
        Assert.True(a.Terms.All(t => t.Value.item<float>() > 0));
    }
}
