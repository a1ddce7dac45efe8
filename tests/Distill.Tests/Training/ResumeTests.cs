using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Training;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Training;

public class ResumeTests
{
    private sealed class Interrupt : Exception;

    /// <summary>Records every step's total loss; optionally throws after a given step, as a kill would stop the run.</summary>
    private sealed class Recorder(long? stopAfter) : ITrainerCallback
    {
        public List<(long Step, double Loss)> Losses { get; } = [];

        public void OnStep(TrainingSession session, StepInfo step)
        {
            Losses.Add((step.Step, step.Total));
            if (step.Step == stopAfter) throw new Interrupt();
        }
    }

    private static RunSummary Execute(Recipe recipe, string dir, bool resume, Recorder recorder) => new RunExecutor
    {
        Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir, Resume = resume,
        ExtraCallbacks = _ => [recorder],
    }.Execute();

    [Fact]
    public void StepsThenResumeEqualsUninterruptedRun()
    {
        const int n = 6, m = 6;
        var recipe = TestRecipes.TinyCnn(n + m, checkpointEvery: n, [new BaselineStageSpec()]);
        string straight = TestRecipes.TempDir(), interrupted = TestRecipes.TempDir();
        try
        {
            var full = new Recorder(null);
            var fullSummary = Execute(recipe, straight, false, full);

            var first = new Recorder(n);
            Assert.Throws<Interrupt>(() => Execute(recipe, interrupted, false, first));
            var second = new Recorder(null);
            var resumedSummary = Execute(recipe, interrupted, true, second);

            var joined = first.Losses.Concat(second.Losses).ToList();
            Assert.Equal(full.Losses.Select(l => l.Step), joined.Select(l => l.Step));
            for (int i = 0; i < joined.Count; i++)
                Assert.True(Math.Abs(full.Losses[i].Loss - joined[i].Loss) <= 1e-6,
                    $"step {joined[i].Step}: uninterrupted {full.Losses[i].Loss} vs resumed {joined[i].Loss}");
            Assert.Equal(n + 1, second.Losses[0].Step);
            Assert.Equal(fullSummary.Stages[0].Metrics["accuracy"], resumedSummary.Stages[0].Metrics["accuracy"], 6);

            // The final weights are identical too.
            var a = Distill.Checkpoints.SafeTensors.Load(Path.Combine(straight, "models", "baseline", "model.safetensors"));
            var b = Distill.Checkpoints.SafeTensors.Load(Path.Combine(interrupted, "models", "baseline", "model.safetensors"));
            foreach (var (k, v) in a) Assert.True(torch.allclose(v.to_type(torch.float64), b[k].to_type(torch.float64), rtol: 0, atol: 1e-7), k);
        }
        finally
        {
            TestRecipes.DeleteDir(straight);
            TestRecipes.DeleteDir(interrupted);
        }
    }
}
