using Distill.Bench;
using Distill.Data;
using Distill.Losses;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Vit;
using Distill.Recipes;
using Distill.Tests;
using Distill.Training;
using TorchSharp;
using Xunit;

namespace Distill.Bench.Tests;

/// <summary>The orchestration logic of <c>distill bench</c> that decides what both sides do: subsets, orders, run plan, terms.</summary>
public class BenchRunnerTests
{
    /// <summary>Example i has label i, so a subset's labels are its source indices.</summary>
    private sealed class Numbered(int count) : IDataset
    {
        public int Count => count;
        public int NumClasses => count;
        public int Label(int index) => index;
        public Batch GetBatch(ReadOnlySpan<int> indices) => throw new NotSupportedException();
    }

    [Theory]
    [InlineData(100, 30)]
    [InlineData(100, null)]
    [InlineData(100, 100)]
    [InlineData(100, 500)]
    public void SubsetIndicesAreTheExamplesTrainLimitSelects(int count, int? limit)
    {
        var source = new Numbered(count);
        var subset = SubsetDataset.Limit(source, limit, seed: 43);
        Assert.Equal(Enumerable.Range(0, subset.Count).Select(subset.Label), BenchRunner.SubsetIndices(count, limit, 43));
    }

    [Fact]
    public void OrdersAreTheTrainersPermutationsCutToWholeBatchesAndMapped()
    {
        int[] map = [.. Enumerable.Range(0, 10).Select(i => 1000 + i * 7)];
        var orders = BenchRunner.Orders(map, seed: 44, epochs: 3, stepsPerEpoch: 3, batchSize: 3).ToArray();
        Assert.Equal(27, orders.Length);
        for (int e = 0; e < 3; e++)
        {
            var epoch = orders[(e * 9)..((e + 1) * 9)];
            Assert.Equal(9, epoch.Distinct().Count());
            Assert.All(epoch, i => Assert.Contains(i, map));
            Assert.Equal(Trainer.Permutation(10, 44, e)[..9].Select(i => map[i]), epoch);
        }
        Assert.NotEqual(orders[..9], orders[9..18]);
    }

    [Fact]
    public void DistillAndPyTorchAlternateWhoGoesFirst()
    {
        Assert.Equal([("distill", "kd"), ("pytorch", "kd"), ("distill", "cache"), ("distill", "bf16")], BenchRunner.Plan(0, BenchSettings.AllVariants));
        Assert.Equal([("pytorch", "kd"), ("distill", "kd"), ("distill", "cache"), ("distill", "bf16")], BenchRunner.Plan(1, BenchSettings.AllVariants));
        Assert.Equal([("distill", "bf16")], BenchRunner.Plan(0, ["bf16"]));
    }

    private static List<ILossTerm> BuildTerms(BenchWorkload w, IModelConfig teacherConfig, IModelConfig studentConfig, IReadOnlyList<InputSpec> inputs)
    {
        var init = ParamInit.Seeded(1);
        var teacher = ParamInit.Build(init, () => ModelRegistry.Default.Get(w.TeacherFamily).Build(teacherConfig));
        var student = ParamInit.Build(init, () => ModelRegistry.Default.Get(w.StudentFamily).Build(studentConfig));
        var shapes = ShapeProbe.Measure(student, teacher, inputs);
        return ParamInit.Build(init, () => w.Terms.Select(t => LossRegistry.Default.Create(t, shapes)).ToList());
    }

    private static IReadOnlyList<InputSpec> Tokens(int length) =>
        BenchTokenDataset.Kind.Inputs(new DataSpec { Dataset = BenchTokenDataset.Key, MaxLength = length });

    [Fact]
    public void BertTermsResolveToTheUniformPairAndA64To128Projector()
    {
        var w = BenchWorkload.BertSst2;
        // A small vocabulary keeps the test fast; widths and depths are the workload's.
        var terms = BuildTerms(w, ((BertConfig)w.TeacherConfig) with { VocabSize = 200 }, ((BertConfig)w.StudentConfig) with { VocabSize = 200 }, Tokens(8));
        var job = BenchRunner.Terms(terms);
        Assert.Equal(new BenchSoftTarget("kd", 1.0, 2, 0.5), job.SoftTarget);
        Assert.Null(job.Hint);
        // Uniform mapping, 1 student layer and 2 teacher layers: student layer 1 <-> teacher layer 2 (TinyBERT g(m) = m * 2).
        Assert.Equal([[1, 2]], job.Hidden!.Pairs);
        Assert.Equal((64L, 128L), (job.Hidden.InFeatures, job.Hidden.OutFeatures));
        Assert.Equal([[1, 2]], job.Attention!.Pairs);
        Assert.Equal("kl", job.Attention.Loss);
    }

    [Fact]
    public void VitTermsResolveToTwoPairsSharingOne32To128Projector()
    {
        var w = BenchWorkload.VitCifar10;
        var inputs = Distill.Data.Cifar10.Cifar10Dataset.Kind.Inputs(new DataSpec());
        var job = BenchRunner.Terms(BuildTerms(w, w.TeacherConfig, w.StudentConfig, inputs));
        Assert.Equal(new BenchSoftTarget("kd", 1.0, 4, 0.9), job.SoftTarget);
        Assert.Equal([[1, 2], [2, 4]], job.Hidden!.Pairs);
        Assert.Equal((32L, 128L), (job.Hidden.InFeatures, job.Hidden.OutFeatures));
        Assert.Null(job.Attention);
    }

    [Fact]
    public void TheWorkerRebuildsTheSameTermsFromTheJob()
    {
        var w = BenchWorkload.BertSst2;
        var teacherConfig = ((BertConfig)w.TeacherConfig) with { VocabSize = 200 };
        var studentConfig = ((BertConfig)w.StudentConfig) with { VocabSize = 200 };
        var job = BenchRunner.Terms(BuildTerms(w, teacherConfig, studentConfig, Tokens(8)));
        var again = BenchRunner.Terms(BuildTerms(w with { Terms = BenchWorker.TermSpecs(job) }, teacherConfig, studentConfig, Tokens(8)));
        Assert.Equal(job.SoftTarget, again.SoftTarget);
        Assert.Equal((job.Hidden!.Name, job.Hidden.Weight, job.Hidden.InFeatures, job.Hidden.OutFeatures), (again.Hidden!.Name, again.Hidden.Weight, again.Hidden.InFeatures, again.Hidden.OutFeatures));
        Assert.Equal(job.Hidden.Pairs, again.Hidden.Pairs);
        Assert.Equal(job.Attention!.Pairs, again.Attention!.Pairs);
        Assert.Equal((job.Attention.Name, job.Attention.Loss), (again.Attention.Name, again.Attention.Loss));
    }

    [Fact]
    public void TermsThePeerCannotMirrorAreRefused()
    {
        var w = BenchWorkload.VitCifar10;
        var inputs = Distill.Data.Cifar10.Cifar10Dataset.Kind.Inputs(new DataSpec());
        var teacher = ((ViTConfig)w.TeacherConfig) with { NumHiddenLayers = 2 };
        var student = teacher with { NumHiddenLayers = 1 }; // equal widths: cosine compares the states directly
        var cosine = BuildTerms(w with { Terms = [.. w.Terms, new CosineSpec { Name = "cos" }] }, teacher, student, inputs);
        var e = Assert.Throws<ArgumentException>(() => BenchRunner.Terms(cosine));
        Assert.Contains("'cos'", e.Message);

        var noSoftTarget = BuildTerms(w with { Terms = [new HiddenMseSpec { Name = "hidden" }] }, teacher, student, inputs);
        Assert.Throws<ArgumentException>(() => BenchRunner.Terms(noSoftTarget));

        var twice = BuildTerms(w with { Terms = [.. w.Terms, new HiddenMseSpec { Name = "hidden2" }] }, teacher, student, inputs);
        e = Assert.Throws<ArgumentException>(() => BenchRunner.Terms(twice));
        Assert.Contains("'hidden2'", e.Message);
    }
}
