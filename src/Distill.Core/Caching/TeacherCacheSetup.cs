using Distill.Data;
using Distill.Losses;
using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Caching;

/// <summary>Opens (or builds) the teacher-output cache a <c>distill</c> stage asked for with <c>distill.cache</c>.</summary>
public static class TeacherCacheSetup
{
    /// <summary>
    /// Checks that the training batches are deterministic (a cache needs them so), hashes teacher, data and
    /// pre-processing, and returns the matching cache in <paramref name="dir"/>, building it when needed.
    /// </summary>
    /// <param name="batchSize">Examples per teacher forward pass while building, unless <paramref name="spec"/> sets its own.</param>
    public static TeacherCache Prepare(DistillModel teacher, IReadOnlyList<ILossTerm> terms, TeacherCacheSpec spec, IDataset train,
        TeacherCacheData data, string dir, int batchSize, Device device, TextWriter log)
    {
        var needs = TeacherNeeds.From(terms);
        TeacherCache.EnsureDeterministic(train);
        var key = TeacherCacheKey.Compute(teacher, train, data, needs, spec.Encoding, spec.TopK);
        var cache = TeacherCache.OpenOrBuild(dir, key, teacher, train, needs, spec, spec.BatchSize ?? batchSize, device);
        log.WriteLine(cache.Built
            ? $"[teacher cache] built {dir} ({cache.Manifest.Count} examples, {cache.DataBytes / 1e6:F1} MB {spec.Encoding}, {cache.BuildSeconds:F1} s; {cache.BuildReason})"
            : $"[teacher cache] reusing {dir} ({cache.Manifest.Count} examples, {cache.DataBytes / 1e6:F1} MB)");
        return cache;
    }
}
