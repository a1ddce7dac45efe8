using System.Text.Json;
using Distill.Caching;
using Distill.Data;
using Distill.Data.Transfer;
using Distill.Models;
using Distill.Recipes;
using Distill.Stages.Results;
using Distill.Training;
using TorchSharp;

namespace Distill.Stages;

/// <summary>Trains a fresh student (same initial weights as the baseline) against the frozen teacher with the recipe's
/// <c>distill.terms</c>; projectors are sized by a one-example shape probe.</summary>
public sealed class DistillStage(DistillStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.Student;

    public StageOutput Run(StageInputs inputs)
    {
        var run = inputs.Run;
        var teacher = inputs.Teacher ?? throw new InvalidOperationException(
            $"Stage '{spec.DisplayName}' needs a teacher: add a train_teacher stage before it or set teacher.checkpoint.");
        // A teacher trained or run in bf16 earlier is widened first (exact): the shape probe and the cache work in fp32.
        if (teacher.parameters().Any(p => p.dtype != torch.ScalarType.Float32)) teacher.to(torch.ScalarType.Float32);
        var init = ParamInit.Seeded(run.TrainFor(spec).Seed);
        var (student, report) = inputs.BuildStudent(init);
        var terms = DistillTerms.Build(run, spec.DisplayName, student, teacher, init);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // The labelled examples, plus the transfer set when the recipe has one (distill stages only).
        var transfer = run.Recipe.Distill.Transfer is { } transferSpec
            ? TransferSetup.Build(run.FullTrainData, run.Recipe.Data.TrainLimit, run.Recipe.Train.Seed, transferSpec, teacher, run.Recipe.Data.Tokenizer)
            : null;
        if (transfer is not null)
            run.Log.WriteLine($"[{spec.DisplayName}] transfer set: {transfer.Labelled} labelled + {transfer.BeyondLimit} unlabelled beyond train_limit + {transfer.Augmented} augmented");
        IDataset train = transfer ?? run.TrainData;
        using var cache = run.Recipe.Distill.Cache is { } cacheSpec ? PrepareCache(run, teacher, terms, cacheSpec, train) : null;
        double cacheSeconds = clock.Elapsed.TotalSeconds;
        // The cache (if any) is built from the fp32 teacher; with precision bf16 the teacher then runs in bf16 (and stays so).
        MixedPrecision.For(run.TrainFor(spec).Precision, run.Device).Convert(teacher);
        using var objective = new DistillObjective(teacher, terms, cache);
        var result = StageTraining.Train<DistillResult>(run, spec, student, objective,
                trainData: cache is null ? transfer : new IndexedDataset(train))
            .WithBuild(report) with
            { Transfer = transfer is null ? null : new TransferReport(transfer.Labelled, transfer.BeyondLimit, transfer.Augmented) };
        if (cache is null) return new StageOutput(result, student);
        // The cache's hashing and building are part of the stage's wall time.
        return new StageOutput(result with
        {
            WallSeconds = result.WallSeconds + cacheSeconds,
            TeacherCache = cache.Built ? "built" : "reused",
            TeacherCacheSeconds = cacheSeconds,
            TeacherCacheMb = cache.DataBytes / 1e6,
            TeacherCacheExamplesPerSecond = cache.Built ? cache.Manifest.BuildExamplesPerSecond : null,
        }, student);
    }

    /// <summary>What identifies the run's training data for the teacher cache; <paramref name="limitSeed"/> drew <c>train_limit</c>'s subset.</summary>
    public static TeacherCacheData CacheData(DataSpec data, long limitSeed, TransferSpec? transfer = null) => new(
        data.Dataset, data.Path, data.TrainSplit, data.TrainLimit, limitSeed, JsonSerializer.Serialize(data.Preprocessing), data.MaxLength, data.Tokenizer)
    {
        Transfer = transfer is null ? null : JsonSerializer.Serialize(transfer),
    };

    private static TeacherCache PrepareCache(RunEnvironment run, DistillModel teacher, IReadOnlyList<Losses.ILossTerm> terms, TeacherCacheSpec cacheSpec, IDataset train) =>
        TeacherCacheSetup.Prepare(teacher, terms, cacheSpec, train, CacheData(run.Recipe.Data, run.Recipe.Train.Seed, run.Recipe.Distill.Transfer), CacheDir(run, cacheSpec),
            run.Recipe.Data.EvalBatchSize, run.Device, run.Log)!;

    /// <summary>The cache folder: <c>&lt;run&gt;/teacher_cache</c>, or <c>distill.cache.dir</c> relative to the recipe file (shared by the runs of several recipes).</summary>
    public static string CacheDir(RunEnvironment run, TeacherCacheSpec cacheSpec) => cacheSpec.Dir is null
        ? Path.Combine(run.RunDir, "teacher_cache")
        : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(run.RecipePath)) ?? ".", cacheSpec.Dir));

    /// <summary>
    /// <c>distill cache build</c>: what <see cref="Run"/> does up to the cache (the student for the terms' shapes, the
    /// transfer set), then builds the cache (or, with <paramref name="shard"/>, one shard of it) without training.
    /// </summary>
    public CacheBuildOutcome BuildCache(StageInputs inputs, CacheShard? shard)
    {
        var run = inputs.Run;
        var teacher = inputs.Teacher ?? throw new InvalidOperationException(
            $"Stage '{spec.DisplayName}' needs a teacher: set teacher.pretrained or teacher.checkpoint to build its cache alone.");
        if (teacher.parameters().Any(p => p.dtype != torch.ScalarType.Float32)) teacher.to(torch.ScalarType.Float32);
        var cacheSpec = run.Recipe.Distill.Cache ?? throw new InvalidOperationException("The recipe has no distill.cache section.");
        var init = ParamInit.Seeded(run.TrainFor(spec).Seed);
        var (student, _) = inputs.BuildStudent(init);
        var terms = DistillTerms.Build(run, spec.DisplayName, student, teacher, init);
        var transfer = run.Recipe.Distill.Transfer is { } transferSpec
            ? TransferSetup.Build(run.FullTrainData, run.Recipe.Data.TrainLimit, run.Recipe.Train.Seed, transferSpec, teacher, run.Recipe.Data.Tokenizer)
            : null;
        string dir = CacheDir(run, cacheSpec);
        using var cache = TeacherCacheSetup.Prepare(teacher, terms, cacheSpec, transfer ?? run.TrainData,
            CacheData(run.Recipe.Data, run.Recipe.Train.Seed, run.Recipe.Distill.Transfer), dir, run.Recipe.Data.EvalBatchSize, run.Device, run.Log, shard);
        return new CacheBuildOutcome(shard is null ? dir : Path.Combine(CacheShards.Folder(dir), shard.FolderName), cache?.Built ?? true,
            cache?.Manifest.Count, cache?.Manifest.BuildExamplesPerSecond);
    }
}
