using System.Text.Json;
using Distill.Checkpoints;
using Distill.Compression.Pruning;
using Distill.Models.Pruning;
using Distill.Losses;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Stages.Results;
using Distill.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

public class PruneStageTests
{
    private sealed class Interrupt : Exception;

    /// <summary>On the prune stage: after every step, records the loss, the term names and each hidden weight's zero set.</summary>
    private sealed class Recorder(long? stopAfter = null) : ITrainerCallback
    {
        public List<(long Step, double Loss)> Losses { get; } = [];
        public List<(long Step, Dictionary<string, bool[]> Zeros)> Zeros { get; } = [];
        public HashSet<string> TermNames { get; } = [];

        public void OnStep(TrainingSession session, StepInfo step)
        {
            Losses.Add((step.Step, step.Total));
            foreach (var (name, _) in step.Terms) TermNames.Add(name);
            var zeros = new Dictionary<string, bool[]>();
            foreach (var (name, p) in session.Model.named_parameters())
                if (name.EndsWith(".weight", StringComparison.Ordinal)) zeros[name] = p.detach().eq(0).cpu().flatten().data<bool>().ToArray();
            Zeros.Add((step.Step, zeros));
            if (step.Step == stopAfter) throw new Interrupt();
        }
    }

    private static RunSummary Execute(Recipe recipe, string dir, bool resume, Recorder recorder) => new RunExecutor
    {
        Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir, Resume = resume,
        ExtraCallbacks = stage => stage == "prune" ? [recorder] : [],
    }.Execute();

    private static PruneStageSpec Gradual(int steps) => new()
    {
        Sparsity = 0.75,
        Schedule = new PruneStageSchedule { StartStep = 0, EndStep = 12, Frequency = 4, InitialSparsity = 0.2 },
        Train = new TrainSpec
        {
            Steps = steps, BatchSize = 32, Lr = 3e-3, CheckpointEvery = 6, EvalEvery = 8, Seed = 11, HistogramEvery = null,
        },
    };

    [Fact]
    public void GradualMagnitude_MasksHoldAfterEveryOptimizerStep()
    {
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec(), Gradual(20)]);
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var rec = new Recorder();
            var summary = Execute(recipe, dir, false, rec);
            var schedule = new CubicSparsitySchedule(0.2, 0.75, 0, 12, 4);
            Assert.Equal(20, rec.Zeros.Count);
            Dictionary<string, bool[]>? previous = null;
            foreach (var (step, zeros) in rec.Zeros)
            {
                foreach (var name in new[] { "layers.0.weight", "layers.1.weight" })
                {
                    var z = zeros[name];
                    long expected = (long)Math.Round(schedule.At(step) * z.Length, MidpointRounding.AwayFromZero);
                    Assert.True(expected == z.Count(b => b), $"step {step} {name}: {z.Count(b => b)} zeros, schedule says {expected}");
                    // Once pruned, a weight stays exactly zero (AdamW's momentum would otherwise move it back).
                    if (previous is not null)
                        for (int i = 0; i < z.Length; i++) Assert.True(!previous[name][i] || z[i], $"step {step} {name}[{i}] revived");
                }
                Assert.DoesNotContain(true, zeros["classifier.weight"]); // excluded by default
                previous = zeros;
            }
            var prune = summary.Stages.OfType<PruneResult>().Single(s => s.Name == "prune");
            Assert.Equal(0.75, prune.Sparsity!.Value, 3);
            Assert.Contains("ce", rec.TermNames); // no teacher in this run: cross-entropy
            // The saved model holds the zeros.
            var saved = SafeTensors.Load(Path.Combine(dir, "models", "prune", "model.safetensors"));
            Assert.Equal(rec.Zeros[^1].Zeros["layers.0.weight"], saved["layers.0.weight"].eq(0).flatten().data<bool>().ToArray());
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }

    [Fact]
    public void InterruptedPruning_ResumesWithItsMasks_AndMatchesTheUninterruptedRun()
    {
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec(), Gradual(18)]);
        string straight = CompressionTestRecipes.TempDir(), interrupted = CompressionTestRecipes.TempDir();
        try
        {
            var full = new Recorder();
            Execute(recipe, straight, false, full);
            // Stop after step 9: the last checkpoint is step 6, whose masks (sparsity at step 4) differ from the dense start.
            var first = new Recorder(stopAfter: 9);
            Assert.Throws<Interrupt>(() => Execute(recipe, interrupted, false, first));
            var masksFile = SafeTensors.Load(Path.Combine(interrupted, "checkpoints", "prune", "last", "projectors.safetensors"));
            Assert.Contains("masks.layers.0.weight", masksFile.Keys);
            var second = new Recorder();
            Execute(recipe, interrupted, true, second);

            Assert.Equal(7, second.Losses[0].Step);
            var joined = first.Losses.Take(6).Concat(second.Losses).ToList();
            Assert.Equal(full.Losses.Select(l => l.Step), joined.Select(l => l.Step));
            for (int i = 0; i < joined.Count; i++)
                Assert.True(Math.Abs(full.Losses[i].Loss - joined[i].Loss) <= 1e-6, $"step {joined[i].Step}: {full.Losses[i].Loss} vs {joined[i].Loss}");
            for (int i = 0; i < second.Zeros.Count; i++)
                foreach (var (name, z) in second.Zeros[i].Zeros)
                    Assert.Equal(full.Zeros[i + 6].Zeros[name], z);
            var a = SafeTensors.Load(Path.Combine(straight, "models", "prune", "model.safetensors"));
            var b = SafeTensors.Load(Path.Combine(interrupted, "models", "prune", "model.safetensors"));
            foreach (var (k, v) in a) Assert.True(torch.allclose(v, b[k], rtol: 0, atol: 1e-7), k);
        }
        finally
        {
            CompressionTestRecipes.DeleteDir(straight);
            CompressionTestRecipes.DeleteDir(interrupted);
        }
    }

    [Fact]
    public void NmPruning_WithDistillation_LeavesAnExact2of4Student()
    {
        var prune = new PruneStageSpec
        {
            Method = PruneMethod.NM, Pattern = new NmPattern(2, 4),
            Train = new TrainSpec { Steps = 8, BatchSize = 32, Lr = 1e-3, Seed = 11, HistogramEvery = null },
        };
        var recipe = CompressionTestRecipes.TinyMlp(
            [new TrainTeacherStageSpec(), new DistillStageSpec(), prune], steps: 10, terms: [new SoftTargetSpec { Kind = "soft_target" }]);
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var rec = new Recorder();
            var summary = Execute(recipe, dir, false, rec);
            Assert.Contains("soft_target", rec.TermNames); // objective: auto picks the distillation terms
            var saved = SafeTensors.Load(Path.Combine(dir, "models", "prune", "model.safetensors"));
            var pattern = new NmPattern(2, 4);
            foreach (var name in new[] { "layers.0.weight", "layers.1.weight" })
            {
                Assert.True(NmPruning.Satisfies(saved[name], pattern), name);
                Assert.Equal(saved[name].numel() / 2, saved[name].ne(0).sum().item<long>());
            }
            Assert.Equal(0, saved["classifier.weight"].eq(0).sum().item<long>());
            Assert.Equal(0.5, summary.Stages.OfType<PruneResult>().Single(s => s.Name == "prune").Sparsity!.Value, 6);
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }

    /// <summary>
    /// A head-pruned student has fewer heads than the teacher, so KD fine-tuning through the attention term fails when the
    /// loss is built; <c>terms</c> leaves that term out (and only it) for both the Taylor scores and the fine-tuning.
    /// The stage also reports the unpruned student's size and latency beside the pruned one's.
    /// </summary>
    [Fact]
    public void HeadPruning_FineTunesWithTheListedTermsOnly_AndReportsTheLatencyBefore()
    {
        static Models.Bert.BertConfig Bert() => new()
        {
            VocabSize = 30522, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 32, MaxPositionEmbeddings = 64, NumLabels = 2,
        };
        Recipe Build(List<string>? terms) => new()
        {
            Teacher = new ModelSpec { Model = "bert", Config = Bert() },
            Student = new ModelSpec { Model = "bert", Config = Bert() },
            Data = new DataSpec
            {
                Dataset = "sst2", Path = Path.Combine(TestPaths.Data, "sst2"), Tokenizer = Path.Combine(TestPaths.Data, "bert-base-uncased-tokenizer"),
                TrainSplit = "train", EvalSplit = "dev", MaxLength = 32, TrainLimit = 64, EvalLimit = 32, EvalBatchSize = 32,
            },
            Distill = new DistillSpec { Terms = [new SoftTargetSpec { Name = "kd" }, new AttentionSpec { Name = "attn" }] },
            Train = new TrainSpec { Steps = 2, BatchSize = 16, Lr = 1e-3, Seed = 5, HistogramEvery = null, CheckpointEvery = 1000 },
            Output = new OutputSpec { Tensorboard = false },
            Stages =
            [
                new TrainTeacherStageSpec(),
                new DistillStageSpec(),
                new PruneStageSpec
                {
                    Method = PruneMethod.Structured, Sparsity = 0.5, Units = [PruneUnit.Heads, PruneUnit.Ffn], Score = UnitScore.Taylor,
                    ImportanceBatches = 2, Terms = terms,
                },
            ],
        };

        string dir = CompressionTestRecipes.TempDir();
        try
        {
            // Without 'terms' (which validation refuses): the attention term cannot be built for the 2-head student.
            var failure = Assert.ThrowsAny<Exception>(() => Execute(Build(null), dir, false, new Recorder()));
            var messages = new List<string>();
            for (Exception? e = failure; e is not null; e = e.InnerException) messages.Add(e.Message);
            Assert.Contains(messages, m => m.Contains("the student layer has 2 attention heads and the teacher layer 4", StringComparison.Ordinal));
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }

        dir = CompressionTestRecipes.TempDir();
        try
        {
            var rec = new Recorder();
            var summary = Execute(Build(["kd"]), dir, false, rec);
            Assert.Contains("kd", rec.TermNames);
            Assert.DoesNotContain("attn", rec.TermNames);
            Assert.Equal(2, rec.Losses.Count);
            var prune = summary.Stages.OfType<PruneResult>().Single(s => s.Name == "prune");
            var config = prune.Config.Deserialize<Models.Bert.BertConfig>()!;
            Assert.Equal(16, config.IntermediateSize);
            Assert.All(config.PrunedHeads!.Values, heads => Assert.Equal(2, heads.Count));
            long before = prune.ParamsBefore!.Value;
            Assert.Equal(4 * before, prune.Fp32BytesBefore!.Value);
            Assert.Equal(4 * prune.Params, (long)prune.Fp32Bytes);
            Assert.True(prune.Params < before);
            double latencyBefore = prune.LatencyMsPerBatchBefore!.Value;
            Assert.True(latencyBefore > 0 && double.IsFinite(latencyBefore), $"latency before: {latencyBefore}");
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }
}
