using Distill.Data.Mnist;
using Distill.Design;
using Distill.Models;
using Distill.Models.Mlp;
using Distill.Recipes;
using Distill.Tests.Compression;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Design;

/// <summary><see cref="LatencyProfiler.MedianMsPerBatch"/> (interleaved samples) returns each model's own time, in
/// argument order: a model with about 700× the multiply-adds of the other must come out slower whichever is passed first.</summary>
[Collection(SerialCollection.Name)]
public sealed class LatencyProfilerInterleavingTests
{
    [Fact]
    public void Interleaved_ReportsEachModelsOwnTime_InArgumentOrder()
    {
        var data = MnistDataset.Open(CompressionTestRecipes.MnistDir, "test", null, null);
        using var big = ModelRegistry.Default.Get("mlp").Build(new MlpConfig { HiddenSizes = [2048, 2048] });
        using var small = ModelRegistry.Default.Get("mlp").Build(new MlpConfig { HiddenSizes = [8] });
        big.train();
        var first = LatencyProfiler.MedianMsPerBatch([big, small], data, 256, torch.CPU, repeats: 3);
        Assert.True(first[0] > 3 * first[1], $"big {first[0]} ms, small {first[1]} ms");
        Assert.True(first[1] > 0);
        Assert.True(big.training, "timing restores the model's training mode");
        var second = LatencyProfiler.MedianMsPerBatch([small, big], data, 256, torch.CPU, repeats: 3);
        Assert.True(second[1] > 3 * second[0], $"big {second[1]} ms, small {second[0]} ms");
    }
}
