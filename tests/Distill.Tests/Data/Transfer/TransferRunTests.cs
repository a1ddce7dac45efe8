using Distill.Stages;
using Distill.Caching;
using Distill.Data.Transfer;
using Distill.Losses;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages.Results;
using Distill.Tests.Training;
using Distill.Training;
using Xunit;

namespace Distill.Tests.Data.Transfer;

/// <summary>A distill stage with <c>distill.transfer</c> end to end: tiny MNIST runs (train_limit 512, 256 beyond it).</summary>
public class TransferRunTests
{
    private sealed class Losses : ITrainerCallback
    {
        public List<double> Totals { get; } = [];
        public void OnStep(TrainingSession session, StepInfo step) => Totals.Add(step.Total);
    }

    private static (RunSummary Summary, List<double> Losses) Run(string dir, TransferSpec? transfer, TeacherCacheSpec? cache = null)
    {
        var recipe = TestRecipes.TinyCnn(8, checkpointEvery: 100,
            [new TrainTeacherStageSpec { Name = "teacher" }, new BaselineStageSpec(), new DistillStageSpec()],
            [new SoftTargetSpec { Temperature = 4, Alpha = 0.5 }]);
        recipe = recipe with
        {
            Distill = recipe.Distill with { Transfer = transfer, Cache = cache },
            Train = recipe.Train with { Epochs = 1, Steps = null },
            Output = recipe.Output with { Tensorboard = false },
        };
        var losses = new Losses();
        var summary = new RunExecutor
        {
            Recipe = recipe, RecipePath = Path.Combine(dir, "recipe.yaml"), RecipeSha256 = "test", RunDir = Path.Combine(dir, "run"),
            ExtraCallbacks = stage => stage == "distill" ? [losses] : [],
        }.Execute();
        return (summary, losses.Totals);
    }

    [Fact]
    public void TheDistillStageTrainsOnTheTransferSetAndTheOtherStagesDoNot()
    {
        string plain = TestRecipes.TempDir(), withTransfer = TestRecipes.TempDir();
        try
        {
            var (before, _) = Run(plain, null);
            var (after, _) = Run(withTransfer, new TransferSpec { Unlabelled = 256 });
            var distill = (DistillResult)after.Stages[2];
            Assert.Equal(new TransferReport(512, 256, 0), distill.Transfer);
            Assert.Null(((DistillResult)before.Stages[2]).Transfer);
            Assert.Equal(16, before.Stages[2].Steps);   // one epoch of 512 examples, batch 32
            Assert.Equal(24, distill.Steps);            // one epoch of 512 + 256
            Assert.Equal(before.Stages[1].Steps, after.Stages[1].Steps);   // the baseline trains on the labelled examples only
            Assert.Equal(before.Stages[1].Metrics["accuracy"], after.Stages[1].Metrics["accuracy"]);
        }
        finally
        {
            TestRecipes.DeleteDir(plain);
            TestRecipes.DeleteDir(withTransfer);
        }
    }

    [Fact]
    public void AnFp32CacheOfTheTransferSetTrainsExactlyAsTheLiveTeacher()
    {
        string live = TestRecipes.TempDir(), cached = TestRecipes.TempDir();
        try
        {
            var transfer = new TransferSpec { Unlabelled = 128 };
            var (_, reference) = Run(live, transfer);
            var (summary, withCache) = Run(cached, transfer, new TeacherCacheSpec { Encoding = CacheEncoding.Fp32 });
            Assert.Equal("built", ((DistillResult)summary.Stages[2]).TeacherCache);
            Assert.Equal(640, CacheManifest.TryRead(Path.Combine(cached, "run", "teacher_cache"))!.Count);
            Assert.Equal(reference.Count, withCache.Count);
            for (int i = 0; i < reference.Count; i++)
                Assert.True(Math.Abs(reference[i] - withCache[i]) <= 1e-5 * Math.Max(1, Math.Abs(reference[i])), $"step {i + 1}: {reference[i]} vs {withCache[i]}");
        }
        finally
        {
            TestRecipes.DeleteDir(live);
            TestRecipes.DeleteDir(cached);
        }
    }

    [Fact]
    public void TooManyUnlabelledExamplesAreInputErrorsBeforeTheRunStarts()
    {
        var recipe = TestRecipes.TinyCnn(8, checkpointEvery: 100, [new TrainTeacherStageSpec { Name = "teacher" }, new DistillStageSpec()],
            [new SoftTargetSpec()]);
        recipe = recipe with { Distill = recipe.Distill with { Transfer = new TransferSpec { Unlabelled = 100_000_000 } } };
        var e = Assert.Throws<InvalidInputException>(() => RunInputs.Check(recipe).Dispose());
        Assert.Contains("distill.transfer.unlabelled", e.Message);
        Assert.Contains("keeps 512 of them labelled", e.Message);
    }
}
