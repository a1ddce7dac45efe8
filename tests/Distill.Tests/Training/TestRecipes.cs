using Distill.Losses;
using Distill.Models.Cnn;
using Distill.Recipes;
using Distill.Stages;

namespace Distill.Tests.Training;

/// <summary>Small recipes built in code (no YAML) for trainer tests: MNIST subsets and tiny CNNs.</summary>
internal static class TestRecipes
{
    public static string MnistDir => Path.Combine(TestPaths.RepoRoot, "data", "mnist");

    public static Recipe TinyCnn(int steps, int checkpointEvery, IReadOnlyList<StageSpec> stages, IReadOnlyList<LossTermSpec>? terms = null) => new()
    {
        Teacher = new ModelSpec { Model = "cnn", Config = new CnnConfig { Channels = [8, 16], HiddenSize = 32 } },
        Student = new ModelSpec { Model = "cnn", Config = new CnnConfig { Channels = [4, 8], HiddenSize = 16 } },
        Data = new DataSpec { Dataset = "mnist", Path = MnistDir, TrainLimit = 512, EvalLimit = 200, EvalBatchSize = 100 },
        Distill = new DistillSpec { Terms = terms?.ToList() ?? [] },
        Train = new TrainSpec
        {
            Steps = steps, BatchSize = 32, Lr = 3e-3, WarmupSteps = 2, CheckpointEvery = checkpointEvery, LogEvery = 1,
            HistogramEvery = 4, EvalEvery = 4, Seed = 7, GradClip = 1.0,
        },
        Stages = stages.ToList(),
    };

    public static void DeleteDir(string dir)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "distill-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
        return dir;
    }
}
