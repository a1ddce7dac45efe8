using Distill.Caching;
using Distill.Models;
using Distill.Training;
using TorchSharp;

namespace Distill.Stages;

/// <summary>Trains a fresh student (same initial weights as the baseline) against the frozen teacher with the recipe's
/// <c>distill.terms</c>; projectors are sized by a one-example shape probe.</summary>
public sealed class DistillStage(DistillStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.Student;

    public StageResult Run(RunContext run)
    {
        var teacher = run.Teacher ?? throw new InvalidOperationException(
            $"Stage '{spec.DisplayName}' needs a teacher: add a train_teacher stage before it or set teacher.checkpoint.");
        // A teacher trained or run in bf16 earlier is widened first (exact): the shape probe and the cache work in fp32.
        if (teacher.parameters().Any(p => p.dtype != torch.ScalarType.Float32)) teacher.to(torch.ScalarType.Float32);
        var init = ParamInit.Seeded(run.TrainFor(spec).Seed);
        var student = run.BuildModel(run.Recipe.Student, init);
        var terms = DistillTerms.Build(run, spec.DisplayName, student, teacher, init);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var cache = run.Recipe.Distill.Cache is { } cacheSpec ? TeacherCacheSetup.Prepare(run, teacher, terms, cacheSpec) : null;
        double cacheSeconds = clock.Elapsed.TotalSeconds;
        // The cache (if any) is built from the fp32 teacher; with precision bf16 the teacher then runs in bf16 (and stays so).
        MixedPrecision.For(run.TrainFor(spec).Precision).Convert(teacher);
        using var objective = new DistillObjective(teacher, terms, cache);
        var result = StageTraining.Train(run, spec, student, objective, trainData: cache is null ? null : new IndexedDataset(run.TrainData));
        run.Student = student;
        if (cache is null) return result;
        // The cache's hashing and building are part of the stage's wall time.
        var extra = new Dictionary<string, object>(result.Extra)
        {
            ["teacher_cache"] = cache.Built ? "built" : "reused",
            ["teacher_cache_seconds"] = cacheSeconds,
            ["teacher_cache_mb"] = cache.DataBytes / 1e6,
        };
        return result with { WallSeconds = result.WallSeconds + cacheSeconds, Extra = extra };
    }
}
