using Distill.Caching;
using Distill.Models;
using Distill.Recipes;
using Distill.Stages;
using TorchSharp;

namespace Distill.Runs;

/// <summary>
/// <c>distill cache build</c> and <c>distill cache merge</c>: a recipe's teacher cache (or shard i of N of it) built
/// outside a run, on another process or machine, into <c>distill.cache.dir</c>; the run (or <c>merge</c>) then merges the
/// shards it finds there. Needs a teacher that exists before the run (<c>teacher.pretrained</c> or
/// <c>teacher.checkpoint</c>) and a cache folder of its own that every job and the run see (<c>distill.cache.dir</c>).
/// </summary>
public static class CacheBuildJob
{
    /// <summary>The recipe's cache folder; an <see cref="InvalidInputException"/> naming the key when it has none.</summary>
    public static string CacheDir(Recipe recipe, string recipePath)
    {
        var spec = recipe.Distill.Cache ?? throw new InvalidInputException(recipePath,
            $"{recipePath}: the recipe has no distill.cache section, so there is no teacher cache to build; add distill.cache with a dir.");
        if (spec.Dir is null)
            throw new InvalidInputException(recipePath,
                $"{recipePath}: distill.cache.dir is not set. A cache built by separate jobs needs a folder of its own that every job and " +
                "the run see (e.g. dir: /shared/caches/my-teacher, relative to the recipe); the default <run>/teacher_cache exists only inside one run.");
        return Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(recipePath)) ?? ".", spec.Dir));
    }

    /// <summary>Builds the cache of the recipe's distill stage (<paramref name="stageName"/>, else the first), or one shard of it.</summary>
    public static CacheBuildOutcome Build(Recipe recipe, string recipePath, string recipeSha256, CacheShard? shard, string? stageName, TextWriter log)
    {
        CacheDir(recipe, recipePath);
        var stage = recipe.Stages.OfType<DistillStageSpec>().FirstOrDefault(s => stageName is null || s.DisplayName == stageName)
            ?? throw new InvalidInputException(recipePath, stageName is null
                ? $"{recipePath}: the recipe has no distill stage, whose teacher cache this would be."
                : $"{recipePath}: no distill stage named '{stageName}' (distill stages: {string.Join(", ", recipe.Stages.OfType<DistillStageSpec>().Select(s => s.DisplayName))}).");
        if (recipe.Teacher.Checkpoint is null && recipe.Teacher.Pretrained is null)
            throw new InvalidInputException(recipePath,
                $"{recipePath}: the teacher is trained inside the run (no teacher.pretrained or teacher.checkpoint), so it does not exist before the run " +
                "to build its cache: train it first (distill run), then set teacher.checkpoint to <run>/models/<teacher stage>.");
        using var inputs = RunInputs.Check(recipe);
        var run = new RunEnvironment
        {
            Recipe = recipe, RecipePath = recipePath, RecipeSha256 = recipeSha256, Device = torch.device(recipe.Train.Device), Log = log, Inputs = inputs,
            RunDir = Path.Combine(Path.GetTempPath(), "distill-cache-build-unused"), // nothing of a run is written
        };
        var factory = new ModelFactory(run);
        var (teacher, _) = factory.Build(ModelRole.Teacher, recipe.Teacher, recipe.Train.Seed);
        if (recipe.Teacher.Checkpoint is { } checkpoint) Checkpoints.CheckpointIO.LoadWeights(Checkpoints.CheckpointIO.Locate(checkpoint) ?? checkpoint, teacher);
        teacher.eval();
        try
        {
            return new DistillStage(stage).BuildCache(new StageInputs(run, factory, teacher, null, null), shard);
        }
        catch (TeacherCacheException e)
        {
            throw new InvalidInputException(CacheDir(recipe, recipePath), e.Message, e);
        }
    }

    /// <summary>Merges the shards in the recipe's cache folder (their key as they share it; the run checks it against its own).</summary>
    public static CacheManifest Merge(Recipe recipe, string recipePath)
    {
        string dir = CacheDir(recipe, recipePath);
        try
        {
            return CacheShards.Merge(dir, null, null);
        }
        catch (TeacherCacheException e)
        {
            throw new InvalidInputException(dir, e.Message, e);
        }
    }
}
