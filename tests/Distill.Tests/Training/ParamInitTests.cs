using Distill.Models;
using Distill.Models.Bert;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Training;

/// <summary>The seeded-initialisation scope: its numbers depend on the seed only, and it is confined to its thread and extent.</summary>
public class ParamInitTests
{
    private static BertForSequenceClassification Bert() => new(new BertConfig
    {
        VocabSize = 40, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 12, MaxPositionEmbeddings = 16, NumLabels = 2,
    });

    [Fact]
    public void ASeededBuildIgnoresWhatElseDrawsFromTheGlobalGenerator()
    {
        using var a = ParamInit.Build(7, Bert);
        torch.rand(1000); // another test drawing in between
        using var b = ParamInit.Build(7, Bert);
        using var c = ParamInit.Build(8, Bert);
        var sa = a.state_dict();
        var sb = b.state_dict();
        foreach (var (name, t) in sa) Assert.True(t.equal(sb[name]).all().item<bool>(), name);
        Assert.False(sa["bert.embeddings.word_embeddings.weight"].equal(c.state_dict()["bert.embeddings.word_embeddings.weight"]).all().item<bool>());
    }

    [Fact]
    public void TheScopeIsNestedPerThreadAndEndsWithTheBuild()
    {
        var outer = ParamInit.Seeded(1);
        Generator? seenInside = null, seenAfterInner = null, seenOnOtherThread = outer;
        ParamInit.Build(outer, () =>
        {
            ParamInit.Build(2, () => seenInside = ParamInit.Current);
            seenAfterInner = ParamInit.Current;
            var thread = new Thread(() => seenOnOtherThread = ParamInit.Current);
            thread.Start();
            thread.Join();
            return 0;
        });
        Assert.NotNull(seenInside);
        Assert.NotSame(outer, seenInside);
        Assert.Same(outer, seenAfterInner);
        Assert.Null(seenOnOtherThread);
        Assert.Null(ParamInit.Current);
    }

    [Fact]
    public void SeededDropoutIsTheIdentityOutsideTrainingAndAtZero()
    {
        var x = torch.ones(4, 5);
        var g = new Generator(3, CPU);
        Assert.Same(x, SeededDropout.Apply(x, 0.5, training: false, g));
        Assert.Same(x, SeededDropout.Apply(x, 0.0, training: true, g));
        var y = SeededDropout.Apply(x, 0.5, training: true, g);
        Assert.True(y.eq(0).logical_or(y.eq(2)).all().item<bool>()); // kept values scaled by 1/(1 − p)
        Assert.Equal(0f, SeededDropout.Apply(x, 1.0, training: true, g).abs().sum().item<float>());
    }
}
