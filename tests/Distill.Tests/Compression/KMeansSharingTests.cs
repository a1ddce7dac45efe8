using Distill.Checkpoints;
using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Models.Mlp;
using Distill.Models;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages.Results;
using Distill.Stages;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

public class KMeansSharingTests
{
    [Fact]
    public void KMeans_LinearInit_ConvergesToTheClusterMeans()
    {
        // Linear init over [0, 10] with k = 3 gives 0, 5, 10; the means of the three groups are 0.1, 5.1, 10.
        using var x = torch.tensor(new[] { 0f, 0.1f, 0.2f, 5f, 5.1f, 5.2f, 10f });
        var (c, a) = KMeans1D.Cluster(x, 3);
        Assert.Equal(new[] { 0.1f, 5.1f, 10f }, c.data<float>().ToArray().Select(v => MathF.Round(v, 5)));
        Assert.Equal(new long[] { 0, 0, 0, 1, 1, 1, 2 }, a.data<long>().ToArray());

        // Init 0, 3, 6, 9 (midpoints 1.5, 4.5, 7.5): {0, 1}, {2, 4}, {}, {8, 9} → means 0.5, 3, (6 kept: empty), 8.5;
        // the new midpoints 1.75, 4.5, 7.25 keep every assignment, so it stops there.
        using var y = torch.tensor(new[] { 0f, 1f, 2f, 4f, 8f, 9f });
        var (c2, a2) = KMeans1D.Cluster(y, 4);
        var expected = new[] { 0.5f, 3f, 6f, 8.5f };
        var got = c2.data<float>().ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], got[i], 5);
        Assert.Equal(new long[] { 0, 0, 1, 1, 3, 3 }, a2.data<long>().ToArray());
    }

    [Fact]
    public void CentroidGradient_IsTheSumOfItsEntriesGradients()
    {
        var g = ParamInit.Seeded(12);
        using var model = ParamInit.Build(g, () => new MlpModel(new MlpConfig { InputSize = 6, HiddenSizes = [5], NumLabels = 3 }));
        var selected = PruneSelector.Select(model, ["layers.0"], []);
        var weight = selected[0].Weight;
        using (torch.no_grad()) weight.index_put_(torch.tensor(0f), torch.tensor(new long[] { 0 }), torch.tensor(new long[] { 0 })); // one pruned entry
        using var masks = new MaskSet(selected);
        using var shared = new SharedWeights([(selected[0], 2)], masks, adam: false);
        shared.Apply();
        var before = shared.CentroidsOf("layers.0.weight").clone().data<float>().ToArray();
        var w = weight.detach().clone().data<float>().ToArray();
        var assign = shared.CentroidsOf("layers.0.weight"); // keep the reference alive
        // A known gradient: g_i = i / 10.
        var grad = Enumerable.Range(0, 30).Select(i => i / 10f).ToArray();
        weight.grad = torch.tensor(grad).view(5, 6);
        shared.Step(0.5);
        var after = shared.CentroidsOf("layers.0.weight").data<float>().ToArray();
        // Independently: entry i belongs to the centroid nearest to its value; the pruned entry 0 contributes nothing.
        var sums = new double[4];
        for (int i = 1; i < 30; i++)
        {
            int k = Enumerable.Range(0, 4).OrderBy(j => Math.Abs(before[j] - w[i])).ThenBy(j => j).First();
            sums[k] += grad[i];
        }
        for (int k = 0; k < 4; k++) Assert.Equal(before[k] - 0.5 * sums[k], after[k], 5);
        var rewritten = weight.detach().data<float>().ToArray();
        Assert.Equal(0f, rewritten[0]);
        for (int i = 1; i < 30; i++) Assert.Contains(rewritten[i], after);
    }

    [Fact]
    public void PruneThenShare_KeepsZeros_AndExportsCodebooks()
    {
        var prune = new PruneStageSpec { Sparsity = 0.8, FineTune = false };
        var quantize = new QuantizeStageSpec
        {
            Bits = 3, LayerBits = new Dictionary<string, int> { ["layers.1"] = 2 },
            Train = new Distill.Recipes.TrainSpec { Steps = 8, BatchSize = 32, Lr = 1e-3, Seed = 11, HistogramEvery = null },
        };
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec(), prune, quantize, new ExportStageSpec()]);
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var summary = new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute();
            var pruned = SafeTensors.Load(Path.Combine(dir, "models", "prune", "model.safetensors"));
            var shared = SafeTensors.Load(Path.Combine(dir, "models", "quantize", "model.safetensors"));
            foreach (var (name, bits) in new[] { ("layers.0.weight", 3), ("layers.1.weight", 2) })
            {
                Assert.True(pruned[name].eq(0).eq(shared[name].eq(0)).all().item<bool>(), $"{name}: zeros moved");
                var nonzero = shared[name].masked_select(shared[name].ne(0)).data<float>().ToArray();
                Assert.InRange(nonzero.Distinct().Count(), 2, 1 << bits);
                // Fine-tuning moved the centroids away from plain k-means of the pruned weights.
                var (initial, _) = KMeans1D.Cluster(pruned[name].masked_select(pruned[name].ne(0)), 1 << bits);
                Assert.NotEqual(initial.data<float>().ToArray(), nonzero.Distinct().Order().ToArray());
            }
            var export = summary.Stages.OfType<ExportResult>().Single();
            var layers = export.Layers;
            // Stored as a codebook: at most 2^bits used centroids with sparse positions, or one more code for the zeros at all positions.
            foreach (var (name, bits) in new[] { ("layers.0.weight", 3), ("layers.1.weight", 2) })
            {
                var layer = layers[name];
                Assert.Contains(": codebook ", (string)layer.Encoding);
                Assert.True((int)layer.ValueBits <= bits + 1, (string)layer.Encoding); // empty clusters cost no code
            }
            Assert.Equal(0.0, (double)export.RoundtripMaxAbsDiff);
            Assert.True((double)export.CompressionRatio > 8, $"ratio {export.CompressionRatio}");
            var quant = summary.Stages.OfType<QuantizeResult>().Single();
            Assert.Equal((long)export.ArtifactBytes, (long)quant.EstimatedArtifactBytes);
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }
}
