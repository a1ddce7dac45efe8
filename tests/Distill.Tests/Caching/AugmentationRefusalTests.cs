using Distill.Caching;
using Distill.Data;
using Distill.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Caching;

public class AugmentationRefusalTests
{
    /// <summary>Wraps a dataset; optionally declares augmentation and/or adds fresh noise on every read.</summary>
    private sealed class Augmenting(IDataset source, string? declared, bool noisy) : IDataset, IAugmentingDataset
    {
        public string? Augmentation => declared;
        public int Count => source.Count;
        public int NumClasses => source.NumClasses;
        public int Label(int index) => source.Label(index);

        public Batch GetBatch(ReadOnlySpan<int> indices)
        {
            var b = source.GetBatch(indices);
            if (!noisy) return b;
            var x = b["pixel_values"];
            return new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = x + torch.randn_like(x) * 0.1 }, b.Labels);
        }
    }

    /// <summary>Adds noise without declaring it: only the read-twice check can catch it.</summary>
    private sealed class SilentlyNoisy(IDataset source) : IDataset
    {
        public int Count => source.Count;
        public int NumClasses => source.NumClasses;
        public int Label(int index) => source.Label(index);

        public Batch GetBatch(ReadOnlySpan<int> indices)
        {
            var b = source.GetBatch(indices);
            return new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = b["pixel_values"] + torch.rand(1).item<float>() }, b.Labels);
        }
    }

    [Fact]
    public void DeterministicDataIsAccepted()
    {
        using var f = new CacheFixture();
        TeacherCache.EnsureDeterministic(f.Train());
        TeacherCache.EnsureDeterministic(new Augmenting(f.Train(), declared: null, noisy: false));
    }

    [Fact]
    public void DeclaredAugmentationIsRefused()
    {
        using var f = new CacheFixture();
        var e = Assert.Throws<TeacherCacheException>(() =>
            TeacherCache.EnsureDeterministic(new Augmenting(f.Train(), "random crop 28, padding 2", noisy: false)));
        Assert.Contains("augmentation (random crop 28, padding 2)", e.Message);
        Assert.Contains("remove distill.cache", e.Message);
    }

    [Fact]
    public void UndeclaredRandomInputsAreRefused()
    {
        using var f = new CacheFixture();
        var e = Assert.Throws<TeacherCacheException>(() => TeacherCache.EnsureDeterministic(new SilentlyNoisy(f.Train())));
        Assert.Contains("'pixel_values'", e.Message);
        Assert.Contains("twice", e.Message);
    }
}
