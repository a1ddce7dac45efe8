using Distill.Models.Cnn;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Training;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Training;

/// <summary>
/// Interrupted and resumed runs replay the uninterrupted ones exactly. The models use dropout, so this holds only if the
/// stage generator's state comes back with the checkpoint; and since every draw goes through that generator (and the
/// initialisation through a seeded one), other tests running beside these cannot change their numbers.
/// </summary>
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

    /// <summary>Both models with dropout 0.3, so that the training randomness matters.</summary>
    private static Recipe WithDropout(Recipe recipe) => recipe with
    {
        Teacher = recipe.Teacher with { Config = (CnnConfig)recipe.Teacher.Config! with { Dropout = 0.3 } },
        Student = recipe.Student with { Config = (CnnConfig)recipe.Student.Config! with { Dropout = 0.3 } },
    };

    private static RunSummary Execute(Recipe recipe, string dir, bool resume, Recorder recorder) => new RunExecutor
    {
        Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir, Resume = resume,
        ExtraCallbacks = _ => [recorder],
    }.Execute();

    [Theory]
    [InlineData(1)]
    [InlineData(4)] // gradient accumulation: 4 micro-batches per step, checkpoints on step boundaries
    public void StepsThenResumeEqualsUninterruptedRun(int accumulation)
    {
        const int n = 6, m = 6;
        var recipe = WithDropout(TestRecipes.TinyCnn(n + m, checkpointEvery: n, [new BaselineStageSpec()]));
        recipe = recipe with { Train = recipe.Train with { GradAccumSteps = accumulation } };
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

    [Theory]
    [InlineData(1)]
    [InlineData(3)] // 32 examples in micro-batches of 11, 11, 10
    public void DistillStageWithHintProjectorResumesExactly(int accumulation)
    {
        // The teacher trains for 4 steps; the distill stage (soft targets + a hint through a 1x1-conv projector) is
        // interrupted after 3 of its 8 steps: projector, optimizer and generator state must all come back.
        const int teacherSteps = 4, n = 3, m = 5;
        Distill.Losses.LossTermSpec[] terms =
        [
            new Distill.Losses.SoftTargetSpec { Name = "kd", Temperature = 4, Alpha = 0.9 },
            new Distill.Losses.HintSpec { Name = "hint", Student = "blocks.1", Teacher = "blocks.1", Weight = 0.5 },
        ];
        var recipe = WithDropout(TestRecipes.TinyCnn(teacherSteps, checkpointEvery: n,
            [new TrainTeacherStageSpec(), new DistillStageSpec { Train = TestRecipes.TinyCnn(n + m, n, []).Train with { GradAccumSteps = accumulation } }], terms));
        string straight = TestRecipes.TempDir(), interrupted = TestRecipes.TempDir();
        try
        {
            var full = new Recorder(null);
            Execute(recipe, straight, false, full);
            var stopAtDistillStep = new StopInStage("distill", n);
            Assert.Throws<Interrupt>(() => new RunExecutor
            {
                Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = interrupted,
                ExtraCallbacks = stage => [stopAtDistillStep.For(stage)],
            }.Execute());
            var second = new Recorder(null);
            Execute(recipe, interrupted, true, second);

            var distillFull = full.Losses.Skip(teacherSteps).ToList();
            var distillJoined = stopAtDistillStep.Losses.Concat(second.Losses).ToList();
            Assert.Equal(distillFull.Select(l => l.Step), distillJoined.Select(l => l.Step));
            for (int i = 0; i < distillJoined.Count; i++)
                Assert.True(Math.Abs(distillFull[i].Loss - distillJoined[i].Loss) <= 1e-6,
                    $"distill step {distillJoined[i].Step}: uninterrupted {distillFull[i].Loss} vs resumed {distillJoined[i].Loss}");
            Assert.True(File.Exists(Path.Combine(interrupted, "checkpoints", "distill", "last", "projectors.safetensors")));

            // TensorBoard holds every distill term by name.
            var tags = TensorBoardEvents.ReadScalars(Path.Combine(straight, "tb", "distill")).Select(s => s.Tag).ToHashSet();
            Assert.Contains("loss/kd", tags);
            Assert.Contains("loss/hint", tags);
        }
        finally
        {
            TestRecipes.DeleteDir(straight);
            TestRecipes.DeleteDir(interrupted);
        }
    }

    /// <summary>Records the distill stage's losses and interrupts it after a given number of its steps.</summary>
    private sealed class StopInStage(string stage, long stopAfter)
    {
        public List<(long Step, double Loss)> Losses { get; } = [];

        public ITrainerCallback For(string name) => name == stage ? new Tap(this) : new Recorder(null);

        private sealed class Tap(StopInStage owner) : ITrainerCallback
        {
            public void OnStep(TrainingSession session, StepInfo step)
            {
                owner.Losses.Add((step.Step, step.Total));
                if (step.Step == owner.StopAfter) throw new Interrupt();
            }
        }

        private long StopAfter => stopAfter;
    }
}
