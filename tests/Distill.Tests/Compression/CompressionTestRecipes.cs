using Distill.Losses;
using Distill.Models.Mlp;
using Distill.Recipes;

namespace Distill.Tests.Compression;

/// <summary>Tiny in-code recipes for the compression stages: small MLPs on an MNIST subset (seconds on 2 cores).</summary>
internal static class CompressionTestRecipes
{
    public static string MnistDir => Path.Combine(TestPaths.RepoRoot, "data", "mnist");

    public static Recipe TinyMlp(IReadOnlyList<StageSpec> stages, int steps = 20, int checkpointEvery = 1000, IReadOnlyList<LossTermSpec>? terms = null) => new()
    {
        Teacher = new ModelSpec { Model = "mlp", Config = new MlpConfig { HiddenSizes = [64, 32] } },
        Student = new ModelSpec { Model = "mlp", Config = new MlpConfig { HiddenSizes = [32, 16] } },
        Data = new DataSpec { Dataset = "mnist", Path = MnistDir, TrainLimit = 512, EvalLimit = 200, EvalBatchSize = 100 },
        Distill = new DistillSpec { Terms = terms?.ToList() ?? [] },
        Train = new TrainSpec
        {
            Steps = steps, BatchSize = 32, Lr = 3e-3, WarmupSteps = 2, CheckpointEvery = checkpointEvery, LogEvery = 5,
            HistogramEvery = null, EvalEvery = 8, Seed = 11,
        },
        Output = new OutputSpec { Tensorboard = false },
        Stages = stages.ToList(),
    };

    /// <summary>Writes a recipe file (tiny MLPs on the MNIST subset, a baseline stage) followed by <paramref name="stages"/>,
    /// for tests of how stage keys bind and where their errors point (the stages start on line 14).</summary>
    public static string WriteMlpRecipe(string stages)
    {
        string dir = TempDir();
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "recipe.yaml");
        File.WriteAllText(path, $"""
            teacher:
              model: mlp
            student:
              model: mlp
              config:
                hidden_sizes: [32, 16]
            data:
              dataset: mnist
              path: {MnistDir}
            train:
              steps: 10
            stages:
              - kind: baseline
            {stages}
            """);
        return path;
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "distill-tests", "compress-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
        return dir;
    }

    public static void DeleteDir(string dir)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
    }
}
