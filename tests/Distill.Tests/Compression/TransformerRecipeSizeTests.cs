using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Models;
using Distill.Recipes;
using Distill.Stages;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

/// <summary>
/// The exact export size of the three transformer compression recipes, without training: the recipe's student (fresh
/// weights, seed 42) pruned 2:4 and put on the 4-bit grids exactly as the recipe's prune and quantize stages select
/// them, then planned by the encoder with the export stage's options. Sizes depend on training only through Huffman
/// statistics, so this guards issue 4's size target (≥ 12× for BERT) and the documented ratios of the small students
/// against regressions in selection or encoding. (Fresh biases and norms are zeros and ones, which the encoder stores
/// as one-value codebooks, so fresh ViT and wav2vec2 students come out smaller — 11.0× and 12.1× with the export
/// options of the recipes (8-bit biases and norms, no tensor names) — than trained ones, whose biases and norms take
/// 8 bits each: the bounds are the ratios measured after training, 9.7× and 11.3×, rounded down.)
/// </summary>
public class TransformerRecipeSizeTests
{
    private static double Ratio(string file)
    {
        var loaded = RecipeLoader.Load(Path.Combine(TestPaths.RepoRoot, "recipes", file));
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        var recipe = loaded.Recipe!;
        var prune = recipe.Stages.OfType<PruneStageSpec>().Single();
        var quantize = recipe.Stages.OfType<QuantizeStageSpec>().Single();
        var export = recipe.Stages.OfType<ExportStageSpec>().Single();
        Assert.Equal(PruneMethod.NM, prune.Method);
        Assert.Equal(QuantizeMethod.Qat, quantize.Method);
        Assert.Equal(4, quantize.Bits);

        var g = ParamInit.Seeded(42);
        using var model = ParamInit.Build(g, () => ModelRegistry.Default.Get(recipe.Student.Model).Build(recipe.Student.Config!));
        var grids = new Dictionary<string, LinearQuantParams>();
        using (torch.no_grad())
        {
            foreach (var w in PruneSelector.Select(model, prune.Include, prune.Exclude))
            {
                using var all = torch.ones_like(w.Weight).to(ScalarType.Bool);
                using var mask = NmPruning.Mask(w.Weight, all, prune.Pattern!, w.Name);
                w.Weight.mul_(mask);
            }
            foreach (var w in PruneSelector.Select(model, quantize.Include, quantize.Exclude))
            {
                var grid = WeightQuantizer.Grid(w.Weight, new QuantScheme(quantize.BitsFor(w.ModulePath), quantize.PerChannel, quantize.Symmetric, quantize.CompactScales));
                using var q = WeightQuantizer.FakeQuantize(w.Weight, grid);
                w.Weight.copy_(q);
                grids[w.Name] = grid;
            }
        }
        var options = new ArtifactOptions
        {
            Huffman = export.Huffman, Float16 = export.Float16, Codebooks = export.Codebooks, Sparse = export.Sparse, Linear = grids,
            FloatBits = export.FloatBits, TensorNames = export.TensorNames,
        };
        var plan = ModelArtifact.Plan(model, options);
        return (double)Distill.Compression.CompressionStats.Fp32Bytes(model) / plan.PredictedBytes;
    }

    [Fact]
    public void BertRecipe_ReachesTwelveTimes()
    {
        double ratio = Ratio("bert-sst2-compress.yaml");
        Assert.True(ratio >= 12, $"bert-sst2-compress exports {ratio:F2}x smaller than fp32; the target is 12x");
    }

    [Theory]
    [InlineData("vit-cifar10-compress.yaml", 9.5)]
    [InlineData("wav2vec2-fsdd-compress.yaml", 11.0)]
    public void SmallStudentRecipes_ReachTheirDocumentedRatios(string file, double documented)
    {
        var export = RecipeLoader.Load(Path.Combine(TestPaths.RepoRoot, "recipes", file)).Recipe!.Stages.OfType<ExportStageSpec>().Single();
        Assert.Equal(8, export.FloatBits);
        Assert.False(export.TensorNames);
        double ratio = Ratio(file);
        Assert.True(ratio >= documented, $"{file} exports {ratio:F2}x smaller than fp32; documented: about {documented}x");
    }
}
