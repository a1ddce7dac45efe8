using Distill.Checkpoints;
using Distill.Losses;
using Distill.Models;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Training;

public class TrainerBehaviourTests
{
    [Fact]
    public void TensorBoardEventFilesHoldEveryLossTermLrAndEvalMetrics()
    {
        var recipe = TestRecipes.TinyCnn(8, checkpointEvery: 100, [new BaselineStageSpec()]);
        string dir = TestRecipes.TempDir();
        try
        {
            new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "t", RunDir = dir }.Execute();
            var scalars = TensorBoardEvents.ReadScalars(Path.Combine(dir, "tb", "baseline"));
            var tags = scalars.Select(s => s.Tag).ToHashSet();
            foreach (var t in new[] { "loss/ce", "loss/total", "lr", "throughput", "eval/accuracy", "eval/macro_f1", "eval/loss" })
                Assert.Contains(t, tags);
            // log_every 1: one loss/ce point per step, 1..8, finite and positive.
            var ce = scalars.Where(s => s.Tag == "loss/ce").OrderBy(s => s.Step).ToList();
            Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), ce.Select(s => s.Step));
            Assert.All(ce, s => Assert.True(float.IsFinite(s.Value) && s.Value > 0));
            // eval_every 4 over 8 steps: evaluations at 4 and 8.
            Assert.Equal([4L, 8L], scalars.Where(s => s.Tag == "eval/accuracy").Select(s => s.Step).Order());
            Assert.Contains("weights/classifier.weight", TensorBoardEvents.HistogramTags(Path.Combine(dir, "tb", "baseline")));
            // Every record, the file_version one first in each file included, is stamped in Unix seconds (not .NET ticks).
            var events = TensorBoardEvents.Events(Path.Combine(dir, "tb")).ToList();
            Assert.Contains(events, e => e.FileVersion == "brain.Event:2");
            TensorBoardEvents.AssertUnixWallTimes(events);
        }
        finally { TestRecipes.DeleteDir(dir); }
    }

    /// <summary>An objective whose loss turns NaN at a chosen step, to check the guard.</summary>
    private sealed class NanAt(int badStep) : IObjective
    {
        private int _calls;

        public nn.Module? Trainable => null;

        public LossBreakdown Compute(DistillModel student, Batch batch)
        {
            var ce = nn.functional.cross_entropy(student.call(batch).Logits, batch.RequireLabels());
            var odd = ++_calls == badStep ? ce * double.NaN : ce * 0.0;
            return new LossBreakdown(ce + odd, [("ce", ce), ("odd", odd)]);
        }
    }

    [Fact]
    public void NanLossStopsWithStepAndTermAndKeepsLastGoodCheckpoint()
    {
        var recipe = TestRecipes.TinyCnn(10, checkpointEvery: 2, [new BaselineStageSpec()]);
        string dir = TestRecipes.TempDir();
        try
        {
            var model = ParamInit.Build(1, () => new Distill.Models.Cnn.CnnModel((Distill.Models.Cnn.CnnConfig)recipe.Student.Config!));
            var objective = new NanAt(5);
            using var opt = OptimizerFactory.Create(recipe.Train, model.parameters());
            var session = new TrainingSession("s", model, objective, opt, 10, new Generator(1, CPU));
            var data = Distill.Data.Mnist.MnistDataset.Open(TestRecipes.MnistDir, "test", null, null);
            var ckpt = new Distill.Logging.CheckpointCallback(Path.Combine(dir, "s"), "baseline", 2, "t");
            var e = Assert.Throws<NonFiniteLossException>(() =>
                new Trainer(recipe.Train with { EvalEvery = null }, [ckpt]).Fit(session, data, data, 500, torch.CPU));
            Assert.Equal(5, e.Step);
            Assert.Equal("odd", e.Term);
            Assert.Contains("step 5", e.Message);
            // The step-4 checkpoint holds the weights that gave the NaN at step 5, so it is dropped; step 2's passed step 3.
            var state = CheckpointIO.ReadState(Path.Combine(dir, "s", "last"));
            Assert.Equal(2, state.Step);
            Assert.False(Directory.Exists(Path.Combine(dir, "s", $"last.tmp-{Environment.ProcessId}")));
            var reloaded = new Distill.Models.Cnn.CnnModel((Distill.Models.Cnn.CnnConfig)recipe.Student.Config!);
            CheckpointIO.LoadWeights(Path.Combine(dir, "s", "last"), reloaded);
            Assert.All(reloaded.parameters(), p => Assert.True(p.isfinite().all().item<bool>()));
        }
        finally { TestRecipes.DeleteDir(dir); }
    }

    /// <summary>A minimal term (MSE between logits) so the trainer test does not depend on a particular loss implementation.</summary>
    private sealed class LogitMse : ILossTerm
    {
        public string Name => "logit_mse";
        public double Weight => 1.0;
        public IReadOnlyList<string> StudentTaps => ["blocks.1"];
        public TeacherReads TeacherReads => new(taps: ["blocks.1"]);
        public bool NeedsAttentions => false;
        public nn.Module? Trainable => null;
        public Tensor Compute(DistillContext c)
        {
            Assert.True(c.StudentFeatures.ContainsKey("blocks.1") && c.TeacherFeatures.ContainsKey("blocks.1"));
            Assert.False(c.TeacherFeatures["blocks.1"].requires_grad);
            return nn.functional.mse_loss(c.Student.Logits, c.Teacher.Logits);
        }
    }

    [Fact]
    public void TeacherStaysFrozenInEvalModeDuringDistillation()
    {
        var recipe = TestRecipes.TinyCnn(6, checkpointEvery: 100, [new BaselineStageSpec()]);
        var init = ParamInit.Seeded(3);
        var teacher = ParamInit.Build(init, () => new Distill.Models.Cnn.CnnModel((Distill.Models.Cnn.CnnConfig)recipe.Teacher.Config!));
        teacher.train(); // the objective must put it in eval mode itself
        var before = teacher.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var student = ParamInit.Build(init, () => new Distill.Models.Cnn.CnnModel((Distill.Models.Cnn.CnnConfig)recipe.Student.Config!));
        using var objective = new DistillObjective(teacher, [new LogitMse()]);
        using var opt = OptimizerFactory.Create(recipe.Train, student.parameters());
        var session = new TrainingSession("d", student, objective, opt, 6, new Generator(3, CPU));
        var data = Distill.Data.Mnist.MnistDataset.Open(TestRecipes.MnistDir, "test", null, null);
        new Trainer(recipe.Train with { EvalEvery = null }, []).Fit(session, data, data, 1000, torch.CPU);
        Assert.False(teacher.training);
        // Every tensor of the teacher, parameters and BatchNorm running statistics alike, is bit-identical.
        foreach (var (k, v) in teacher.state_dict()) Assert.True(v.equal(before[k]).all().item<bool>(), k);
        Assert.All(teacher.parameters(), p => Assert.Null(p.grad));
    }
}
