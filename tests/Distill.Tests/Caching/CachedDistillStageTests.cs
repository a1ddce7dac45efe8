using Distill.Caching;
using Distill.Losses;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Stages.Results;
using Distill.Tests.Recipes;
using Distill.Tests.Training;
using Distill.Training;
using Xunit;

namespace Distill.Tests.Caching;

public class CachedDistillStageTests
{
    private sealed class Losses : ITrainerCallback
    {
        public List<double> Totals { get; } = [];
        public void OnStep(TrainingSession session, StepInfo step) => Totals.Add(step.Total);
    }

    private static (RunSummary Summary, List<double> Losses) Run(TeacherCacheSpec? cache, string dir)
    {
        var recipe = TestRecipes.TinyCnn(8, checkpointEvery: 100,
            [new TrainTeacherStageSpec { Name = "teacher" }, new DistillStageSpec()],
            [new SoftTargetSpec { Temperature = 4, Alpha = 0.9 }, new HintSpec { Student = "blocks.1", Teacher = "blocks.1", Weight = 0.5 }]);
        recipe = recipe with { Distill = recipe.Distill with { Cache = cache }, Output = recipe.Output with { Tensorboard = false } };
        var losses = new Losses();
        var summary = new RunExecutor
        {
            Recipe = recipe, RecipePath = Path.Combine(dir, "recipe.yaml"), RecipeSha256 = "test", RunDir = Path.Combine(dir, "run"),
            ExtraCallbacks = stage => stage == "distill" ? [losses] : [],
        }.Execute();
        return (summary, losses.Totals);
    }

    [Fact]
    public void DistillWithAnFp32CacheTrainsExactlyAsWithTheTeacherAndReusesTheCache()
    {
        string plain = TestRecipes.TempDir(), cachedA = TestRecipes.TempDir(), cachedB = TestRecipes.TempDir();
        string shared = Path.Combine(TestRecipes.TempDir(), "shared-cache");
        try
        {
            var (_, reference) = Run(null, plain);
            var spec = new TeacherCacheSpec { Encoding = CacheEncoding.Fp32, Dir = shared };
            var (first, withCache) = Run(spec, cachedA);
            Assert.Equal(reference.Count, withCache.Count);
            for (int i = 0; i < reference.Count; i++)
                Assert.True(Math.Abs(reference[i] - withCache[i]) <= 1e-5 * Math.Max(1, Math.Abs(reference[i])),
                    $"step {i + 1}: teacher {reference[i]} vs cache {withCache[i]}");
            Assert.Equal("built", ((DistillResult)first.Stages[1]).TeacherCache);
            Assert.True(File.Exists(Path.Combine(shared, CacheManifest.FileName)));

            // Same teacher (same seed), same data: the second run reuses the folder.
            var (second, again) = Run(spec, cachedB);
            Assert.Equal("reused", ((DistillResult)second.Stages[1]).TeacherCache);
            Assert.Equal(withCache, again);
        }
        finally
        {
            foreach (var d in new[] { plain, cachedA, cachedB, Path.GetDirectoryName(shared)! }) TestRecipes.DeleteDir(d);
        }
    }

    /// <summary>Binding only (<see cref="RecipeLoader"/>): the model-level checks would build the models on the meta device,
    /// a process-wide switch that would need the serial collection.</summary>
    [Fact]
    public void RecipeBindsTheCacheSection()
    {
        string dir = TestRecipes.TempDir();
        Directory.CreateDirectory(dir);
        try
        {
            string yaml = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "recipes", "quickstart.yaml"))
                .Replace("path: ../data/mnist", $"path: {TestRecipes.MnistDir}")
                .Replace("      weight: 0.5\n", "      weight: 0.5\n  cache:\n    encoding: int8\n    top_k: 5\n    dir: cache/q\n");
            string path = Path.Combine(dir, "r.yaml");
            File.WriteAllText(path, yaml);
            var loaded = RecipeLoader.Load(path);
            Assert.Empty(loaded.Errors);
            Assert.Equal(new TeacherCacheSpec { Encoding = CacheEncoding.Int8, TopK = 5, Dir = "cache/q" }, loaded.Recipe!.Distill.Cache);

            File.WriteAllText(path, yaml.Replace("encoding: int8", "encoding: int4"));
            var error = Assert.Single(RecipeLoader.Load(path).Errors);
            Assert.Contains("distill.cache.encoding", error.ToString());
        }
        finally
        {
            TestRecipes.DeleteDir(dir);
        }
    }
}
