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
    /// <param name="batchSize">The evaluation batch (<c>data.eval_batch_size</c>): the build batch is <paramref name="spec"/>'s
    /// own, else this one up to <see cref="CacheBuildSettings.DefaultBatchSize"/> (small batches of similar lengths pad little).</param>
    /// <param name="shard">Build only this shard into <see cref="CacheShards.Folder"/> and return null (<c>distill cache build --shard</c>).</param>
    public static TeacherCache? Prepare(DistillModel teacher, IReadOnlyList<ILossTerm> terms, TeacherCacheSpec spec, IDataset train,
        TeacherCacheData data, string dir, int batchSize, Device device, TextWriter log, CacheShard? shard = null)
    {
        var needs = TeacherNeeds.From(terms);
        TeacherCache.EnsureDeterministic(train);
        var key = TeacherCacheKey.Compute(teacher, train, data, needs, spec.Encoding, spec.TopK);
        var settings = BuildSettings(spec, batchSize, log);
        if (shard is not null)
        {
            string folder = CacheShards.Build(dir, shard, key, teacher, train, needs, spec, settings, device);
            log.WriteLine($"[teacher cache] wrote shard {shard} to {folder}");
            return null;
        }
        var cache = TeacherCache.OpenOrBuild(dir, key, teacher, train, needs, spec, settings, device);
        log.WriteLine(cache.Built
            ? $"[teacher cache] built {dir} ({cache.Manifest.Count} examples, {cache.DataBytes / 1e6:F1} MB {spec.Encoding}, {cache.BuildSeconds:F1} s; {cache.BuildReason})"
            : $"[teacher cache] reusing {dir} ({cache.Manifest.Count} examples, {cache.DataBytes / 1e6:F1} MB)");
        return cache;
    }

    /// <summary>The build settings of a recipe's cache: its batch (see <c>Prepare</c>), progress lines to <paramref name="log"/>.</summary>
    public static CacheBuildSettings BuildSettings(TeacherCacheSpec spec, int evalBatchSize, TextWriter log) =>
        new(spec.BatchSize ?? Math.Min(evalBatchSize, CacheBuildSettings.DefaultBatchSize)) { Progress = log };
}
