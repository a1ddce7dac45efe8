using Distill.Compression;
using Distill.Data.Mnist;
using Distill.Models;
using Distill.Models.Mlp;
using Distill.Recipes;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Compression;

/// <summary><see cref="LatencyProbe.Alternating"/> returns each model's own time, in argument order: a model with
/// about 700× the multiply-adds of the other must come out slower whichever is passed first. Serial: timings taken
/// while parallel tests load the CPU would say nothing about the models.</summary>
[Collection(SerialCollection.Name)]
public sealed class LatencyProbeTests
{
    [Fact]
    public void Alternating_ReportsEachModelsOwnTime_InArgumentOrder()
    {
        var data = MnistDataset.Open(CompressionTestRecipes.MnistDir, "test", new PreprocessSpec());
        using var big = ModelRegistry.Default.Get("mlp").Build(new MlpConfig { HiddenSizes = [2048, 2048] });
        using var small = ModelRegistry.Default.Get("mlp").Build(new MlpConfig { HiddenSizes = [8] });
        big.train();
        var (bigMs, smallMs) = LatencyProbe.Alternating(big, small, data, 256, torch.CPU, runs: 3);
        Assert.True(bigMs > 3 * smallMs, $"big {bigMs} ms, small {smallMs} ms");
        Assert.True(smallMs > 0);
        Assert.False(big.training, "the probe times eval-mode forward passes");
        var (small2, big2) = LatencyProbe.Alternating(small, big, data, 256, torch.CPU, runs: 3);
        Assert.True(big2 > 3 * small2, $"big {big2} ms, small {small2} ms");
    }
}
