using Distill.Design;
using Distill.Models.Design;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Cnn;
using Distill.Models.Vit;
using Distill.Models.Wav2Vec2;
using Distill.Recipes;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Design;

/// <summary>
/// Every design family's candidates build, run their synthetic deployment batch and can be timed (no assertion on the
/// time itself: the machine is shared), and their cost features follow the formulas. Parameter counting switches the
/// default device, hence the collection.
/// </summary>
[Collection(Distill.Tests.SerialCollection.Name)]
public class FamilyProfilingTests
{
    public static TheoryData<string> Families => ["cnn", "bert", "vit", "wav2vec2"];

    private static (IModelConfig Base, SearchSpaceSpec Space, DeploymentSpec Deployment) Setup(string family) => family switch
    {
        "cnn" => (new Distill.Models.Cnn.CnnConfig { Channels = [4], HiddenSize = 8 },
            new SearchSpaceSpec { Layers = new IntChoices([1]), Channels = new IntChoices([4, 8]), HiddenSize = new IntChoices([8, 16]) }, new DeploymentSpec { BatchSize = 2 }),
        "bert" => (new BertConfig { VocabSize = 50, HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 32, MaxPositionEmbeddings = 16 },
            new SearchSpaceSpec { Layers = new IntChoices([1, 2]), HiddenSize = new IntChoices([16, 32]) }, new DeploymentSpec { BatchSize = 2, SequenceLength = 12 }),
        "vit" => (new ViTConfig { ImageSize = 16, PatchSize = 4, NumChannels = 3, HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 32, NumLabels = 3 },
            new SearchSpaceSpec { Layers = new IntChoices([1, 2]), IntermediateSize = new IntChoices([32, 64]) }, new DeploymentSpec { BatchSize = 2 }),
        _ => (new Wav2Vec2Config
        {
            HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 32, ConvDim = [16, 16], ConvKernel = [10, 3], ConvStride = [5, 2],
            NumConvPosEmbeddings = 8, NumConvPosEmbeddingGroups = 4, ClassifierProjSize = 8,
        }, new SearchSpaceSpec { Layers = new IntChoices([1, 2]), HiddenSize = new IntChoices([16, 32]), Heads = new IntChoices([2]) }, new DeploymentSpec { BatchSize = 2, AudioLength = 800 }),
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void CandidatesRunTheirDeploymentBatchAndCanBeTimed(string family)
    {
        var design = DesignFamilies.Get(family);
        var (baseConfig, space, deployment) = Setup(family);
        var data = new DataSpec { Dataset = "test", Path = ".", MaxLength = 12 };
        Assert.Empty(design.Validate(space, baseConfig));
        Assert.Empty(design.ValidateDeployment(deployment, baseConfig, data.MaxLength));
        var shape = design.Resolve(deployment, baseConfig, data.MaxLength, threads: 1, device: "cpu");
        var candidates = DesignSearch.Candidates(design, space, baseConfig, shape);
        Assert.Equal(4, candidates.Count);
        var profiler = new LatencyProfiler(warmup: 1, repeats: 3, minSampleMs: 0);
        foreach (var c in candidates)
        {
            Assert.Equal(design.FeatureNames.Count, c.Features.Length);
            Assert.All(c.Features, f => Assert.True(f >= 0 && double.IsFinite(f)));
            using var model = ParamInit.Build(0, () => ModelRegistry.Default.Get(family).Build(c.Config));
            Assert.Equal(model.ParameterCount(), c.Params);
            using var scope = torch.NewDisposeScope();
            var batch = design.SyntheticBatch(c.Config, shape, torch.CPU);
            using (torch.no_grad())
                Assert.Equal(shape.BatchSize, model.call(batch).Logits.shape[0]);
            var m = profiler.Measure(model, batch, torch.CPU, shape.Threads);
            Assert.Equal(3, m.Repeats);
            Assert.True(m.MinMs > 0 && m.MinMs <= m.P25Ms && m.P25Ms <= m.MedianMs && m.MedianMs <= m.P75Ms, $"{m}");
            Assert.True(model.training, "the profiler restores the model's training mode");
        }
    }

    [Fact]
    public void TransformerFeaturesFollowTheLayerFormulas()
    {
        var design = new BertDesign();
        var config = new BertConfig { HiddenSize = 64, NumHiddenLayers = 3, NumAttentionHeads = 4, IntermediateSize = 256 };
        var shape = new DeploymentShape(8, 1, "cpu") { SequenceLength = 32 };
        var f = design.Features(config, shape);
        double b = 8, t = 32, h = 64, i = 256, l = 3;
        Assert.Equal([1, l, l * b * t * h, l * b * t * (4 * h * h + 2 * h * i), l * b * 2 * t * t * h, l * b * 4 * t * t, b * t * h, b * h * h], f);
        // Doubling the batch doubles every per-batch feature and leaves the constant and the layer count alone.
        var f2 = design.Features(config, shape with { BatchSize = 16 });
        Assert.Equal(f[0], f2[0]);
        Assert.Equal(f[1], f2[1]);
        for (int k = 2; k < f.Length; k++) Assert.Equal(2 * f[k], f2[k], 6);
    }

    [Fact]
    public void Wav2Vec2FramesFollowTheConvStack()
    {
        var c = new Wav2Vec2Config { ConvKernel = [10, 3, 3, 3, 3, 2, 2], ConvStride = [5, 2, 2, 2, 2, 2, 2] };
        Assert.Equal(49, Wav2Vec2Design.Frames(c, 16000)); // wav2vec2-base: 20 ms frames, 49 per second
        Assert.Equal(0, Wav2Vec2Design.Frames(c, 300));
    }

    [Fact]
    public void CnnFeaturesCountConvAndFcWork()
    {
        var design = new CnnDesign();
        var config = new Distill.Models.Cnn.CnnConfig { InChannels = 1, ImageSize = 28, Channels = [4, 8], HiddenSize = 16, NumLabels = 10 };
        var f = design.Features(config, new DeploymentShape(2, 1, "cpu") { ImageSize = 28 });
        double conv = 2 * (28 * 28 * 1 * 4 * 9 + 14 * 14 * 4 * 8 * 9), act = 2 * (28 * 28 * 4 + 14 * 14 * 8), fc = 2 * (8 * 7 * 7 * 16 + 16 * 10);
        Assert.Equal([1, 2, conv, act, fc], f);
        Assert.Equal(conv + fc, design.Macs(config, new DeploymentShape(2, 1, "cpu")));
    }
}
