using Distill.Design;
using Distill.Models.Bert;
using Distill.Models.Cnn;
using Distill.Models.Design;
using Distill.Models.Vit;
using Distill.Models.Wav2Vec2;
using Distill.Models;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Design;

/// <summary>
/// <c>deployment.runtime: onnxruntime</c>: every design family's candidates are exported to in-memory ONNX graphs
/// (fp32 and int8) and timed in ONNX Runtime through the interleaved protocol (no assertion on the times: the machine
/// is shared); the profile's fingerprint and keys carry the runtime, so the runtimes' measurements never mix.
/// </summary>
[Collection(Distill.Tests.SerialCollection.Name)]
public sealed class OnnxRuntimeProfilingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "distill-ort-profile-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    public static TheoryData<string, OnnxPrecision> Cases => new()
    {
        { "cnn", OnnxPrecision.Fp32 }, { "cnn", OnnxPrecision.Int8 }, { "bert", OnnxPrecision.Fp32 }, { "bert", OnnxPrecision.Int8 },
        { "vit", OnnxPrecision.Int8 }, { "wav2vec2", OnnxPrecision.Fp32 },
    };

    private static (IModelConfig Base, SearchSpaceSpec Space, DeploymentSpec Deployment) Setup(string family) => family switch
    {
        "cnn" => (new CnnConfig { Channels = [4], HiddenSize = 8 },
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
    [MemberData(nameof(Cases))]
    public void Candidates_are_timed_as_onnx_graphs_in_a_profile_of_their_own(string family, OnnxPrecision precision)
    {
        var design = DesignFamilies.Get(family);
        var (baseConfig, space, deployment) = Setup(family);
        var torchShape = design.Resolve(deployment, baseConfig, 12, threads: 1, device: "cpu");
        var ortShape = torchShape with { Runtime = DeploymentRuntime.Onnxruntime, OnnxPrecision = precision };
        var candidates = DesignSearch.Candidates(design, space, baseConfig, ortShape);
        var torchKeys = DesignSearch.Candidates(design, space, baseConfig, torchShape).Select(c => c.CacheKey).ToHashSet();
        Assert.DoesNotContain(candidates, c => torchKeys.Contains(c.CacheKey));

        var fingerprint = DeviceFingerprint.Current(torch.CPU, 1, ortShape);
        Assert.Equal($"onnxruntime {precision.ToString().ToLowerInvariant()}", fingerprint.Runtime);
        Assert.NotNull(fingerprint.OnnxRuntimeVersion);
        Assert.NotEqual(DeviceFingerprint.Current(torch.CPU, 1, torchShape).Hash, fingerprint.Hash);

        var cache = ProfileCache.Open(_dir, fingerprint);
        var profiler = new LatencyProfiler(warmup: 1, repeats: 3, minSampleMs: 0, new TimingSettings { MaxRetries = 1 });
        var source = new ProfiledLatencySource(design, ortShape, cache, profiler, torch.CPU);
        var measured = source.MeasureMany(candidates);
        Assert.Equal(candidates.Count, measured.Count);
        Assert.All(measured, m => Assert.True(m.MinMs > 0 && m.MinMs <= m.MedianMs && m.TrimmedMeanMs > 0, $"{m}"));
        Assert.Equal(candidates.Count, cache.Count);
        Assert.All(candidates, c => Assert.NotNull(source.Cached(c)));
        Assert.Contains("onnxruntime", File.ReadAllText(cache.FilePath), StringComparison.Ordinal);
        Assert.Contains(", onnxruntime ", ortShape.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("runtime", torchShape.ToString(), StringComparison.Ordinal);
    }
}
