using Distill.Losses;
using Distill.Models;
using Distill.Stages;

namespace Distill.Caching;

/// <summary>Opens (or builds) the teacher-output cache a <c>distill</c> stage asked for with <c>distill.cache</c>.</summary>
public static class TeacherCacheSetup
{
    /// <summary>
    /// Checks that the run can use a cache (the training batches are deterministic),
    /// hashes teacher, data and pre-processing, and returns the matching cache, building it when needed.
    /// </summary>
    public static TeacherCache Prepare(RunContext run, DistillModel teacher, IReadOnlyList<ILossTerm> terms, TeacherCacheSpec spec)
    {
        var needs = TeacherNeeds.From(terms);
        TeacherCache.EnsureDeterministic(run.TrainData);
        string dir = spec.Dir is null
            ? Path.Combine(run.RunDir, "teacher_cache")
            : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(run.RecipePath)) ?? ".", spec.Dir));
        var data = run.Recipe.Data;
        var key = TeacherCacheKey.Compute(teacher, run.TrainData, data, data.TrainSplit, run.Recipe.Train.Seed, needs, spec.Encoding, spec.TopK);
        var cache = TeacherCache.OpenOrBuild(dir, key, teacher, run.TrainData, needs, spec, spec.BatchSize ?? data.EvalBatchSize, run.Device);
        run.Log.WriteLine(cache.Built
            ? $"[teacher cache] built {dir} ({cache.Manifest.Count} examples, {cache.DataBytes / 1e6:F1} MB {spec.Encoding}, {cache.BuildSeconds:F1} s; {cache.BuildReason})"
            : $"[teacher cache] reusing {dir} ({cache.Manifest.Count} examples, {cache.DataBytes / 1e6:F1} MB)");
        return cache;
    }
}
