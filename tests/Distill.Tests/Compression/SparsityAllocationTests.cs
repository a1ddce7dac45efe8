using Distill.Compression.Allocation;
using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Models;
using Distill.Models.Mlp;
using Distill.Recipes;
using Distill.Runs;
using Distill.Stages;
using Distill.Stages.Results;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distill.Tests.Compression;

/// <summary>
/// The allocation of per-layer sparsity and bit width under a byte budget (<see cref="BudgetAllocation"/>): what each
/// option measures, the binding of <c>candidate_sparsity</c>/<c>target_ratio</c>, and that a run's exported artifact fits
/// the budget with the chosen sparsities still in place after fine-tuning.
/// </summary>
public class SparsityAllocationTests
{
    [Fact]
    public void Measure_EachOptionIsThatLayerAlonePrunedAndQuantized_AndTheModelIsLeftAsItWas()
    {
        var g = ParamInit.Seeded(5);
        // layers.0 has rows of 10 (2:4 cannot apply), layers.1 rows of 8.
        using var model = ParamInit.Build(g, () => new MlpModel(new MlpConfig { InputSize = 10, HiddenSizes = [8, 6], NumLabels = 3 }));
        var selected = PruneSelector.Select(model, ["layers.*"], []);
        Assert.Equal(["layers.0.weight", "layers.1.weight"], selected.Select(w => w.Name));
        using var masks = new MaskSet(selected);
        var x = torch.randn(16, 10, generator: g);
        var y = torch.randint(0, 3, [16], ScalarType.Int64, generator: g);
        var batch = new Batch(new Dictionary<string, Tensor> { ["pixel_values"] = x }, y);
        double Loss()
        {
            using var _ = torch.no_grad();
            return torch.nn.functional.cross_entropy(model.call(batch).Logits, y).item<float>();
        }
        var before = selected.Select(w => w.Weight.detach().clone()).ToList();
        double baseline = Loss();
        var seenMasks = new List<(string Name, Tensor Mask)>();
        (Tensor, LinearQuantParams?) Quantize(PrunableWeight w, Tensor weight, Tensor mask, int bits)
        {
            seenMasks.Add((w.Name, mask.clone()));
            var grid = WeightQuantizer.Grid(weight, new QuantScheme(bits, PerChannel: true, Symmetric: true, CompactScales: false));
            return (WeightQuantizer.FakeQuantize(weight, grid), grid);
        }
        var sparsities = new[] { SparsityChoice.Nm(new NmPattern(2, 4)), SparsityChoice.Unstructured(0.75) };
        var options = BudgetAllocation.Measure(model, selected, masks, sparsities, [2, 4], Quantize, Loss, new ArtifactOptions(), out var skipped);

        // 2:4 does not apply to rows of 10: left out for layers.0 with a reason; 0.75 applies to both.
        Assert.Equal(["0.75", "0.75"], options[0].Select(o => o.Sparsity.ToString()));
        Assert.Equal(["2:4", "2:4", "0.75", "0.75"], options[1].Select(o => o.Sparsity.ToString()));
        Assert.Contains(skipped, s => s.Contains("layers.0.weight") && s.Contains("multiple of 4"));

        // The model is exactly as before.
        for (int i = 0; i < selected.Count; i++) Assert.True(Same(before[i], selected[i].Weight.detach()));

        // Each option, recomputed by hand: the mask (2:4 = top-2 |w| of each group of 4; 0.75 = the 25 % largest |w| of
        // the layer), the layer alone replaced by its pruned and quantized copy, the loss increase and the record bytes.
        int call = 0;
        for (int l = 0; l < 2; l++)
            foreach (var o in options[l])
            {
                var w = before[l];
                Tensor mask = o.Sparsity.Pattern is not null
                    ? HandNm(w)
                    : w.abs().ge(w.abs().flatten().sort(descending: true).Values[(long)Math.Round(w.numel() * 0.25) - 1]);
                var (name, seen) = seenMasks[call++];
                Assert.Equal(selected[l].Name, name);
                Assert.True(Same(mask, seen), $"{name} {o.Sparsity}: mask differs from the hand-computed one");
                var grid = WeightQuantizer.Grid(w.mul(mask), new QuantScheme(o.Bits, true, true, false));
                var q = WeightQuantizer.FakeQuantize(w.mul(mask), grid);
                Assert.Equal(ArtifactEncoder.PlanTensor(name, q, new ArtifactOptions { Linear = new Dictionary<string, LinearQuantParams> { [name] = grid } }).EncodingBytes, o.Bytes);
                using (torch.no_grad()) selected[l].Weight.copy_(q);
                double expected = Loss() - baseline;
                using (torch.no_grad()) selected[l].Weight.copy_(w);
                Assert.Equal(expected, o.Sensitivity, 6);
            }
        Assert.Equal(seenMasks.Count, call);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static Tensor HandNm(Tensor w)
    {
        var groups = w.abs().view(w.shape[0], -1, 4);                              // (rows, K/4, 4)
        var kth = groups.sort(dim: -1, descending: true).Values.narrow(-1, 1, 1);  // the 2nd largest of each group
        return groups.ge(kth).view(w.shape);
    }

    [Fact]
    public void WithoutAnApplicableListedSparsity_ALayerKeepsItsMask()
    {
        using var model = ParamInit.Build(6, () => new MlpModel(new MlpConfig { InputSize = 10, HiddenSizes = [8], NumLabels = 3 }));
        var selected = PruneSelector.Select(model, ["layers.0"], []);
        using var masks = new MaskSet(selected);
        var options = BudgetAllocation.Measure(model, selected, masks, [SparsityChoice.Nm(new NmPattern(2, 4))], [4],
            (w, weight, mask, bits) => (weight.clone(), null), () => 0.0, new ArtifactOptions(), out var skipped);
        Assert.Equal(SparsityChoice.Keep, Assert.Single(options[0]).Sparsity);
        Assert.Single(skipped);
    }

    [Theory]
    [InlineData(QuantizeMethod.Ptq)]
    [InlineData(QuantizeMethod.Qat)]
    [InlineData(QuantizeMethod.Kmeans)]
    public void UnderATargetRatio_TheArtifactFits_AndTheChosenSparsitiesHoldInTheReloadedModel(QuantizeMethod method)
    {
        // fp32 784-32-16-10 is 25,818 x 4 = 103,272 bytes; at 20x (5,163 B) the 784x32 layer cannot stay dense even at 2 bits (6.3 kB).
        var quantize = new QuantizeStageSpec
        {
            Method = method, TargetRatio = 20, CandidateBits = [2, 4, 8], SensitivityBatches = 2,
            CandidateSparsity = [SparsityChoice.Keep, SparsityChoice.Nm(new NmPattern(2, 4)), SparsityChoice.Unstructured(0.75), SparsityChoice.Unstructured(0.9)],
            Include = ["*"], Exclude = [],
            Train = new TrainSpec { Steps = 12, BatchSize = 32, Lr = 1e-3, Seed = 11, HistogramEvery = null },
        };
        var recipe = CompressionTestRecipes.TinyMlp([new BaselineStageSpec(), quantize, new ExportStageSpec()], steps: 20);
        string dir = CompressionTestRecipes.TempDir();
        try
        {
            var summary = new RunExecutor { Recipe = recipe, RecipePath = "in-code", RecipeSha256 = "test", RunDir = dir }.Execute();
            var q = summary.Stages.OfType<QuantizeResult>().Single();
            var export = summary.Stages.OfType<ExportResult>().Single();
            var allocation = q.Allocation!;
            Assert.Equal(103272L, (long)export.Fp32Bytes);
            Assert.Equal(103272L / 20, (long)allocation.TargetBytes);
            long artifact = (long)export.ArtifactBytes;
            Assert.True(artifact <= 103272 / 20, $"artifact {artifact} bytes > budget {103272 / 20}");
            Assert.True((double)export.CompressionRatio >= 20);
            if (method == QuantizeMethod.Ptq) Assert.Equal((long)allocation.PredictedBytes, artifact); // no training: sizes exact
            // The stage's own estimate uses the export's options, so it is the file's size; a warning exactly when over the target.
            Assert.Equal(artifact, (long)q.EstimatedArtifactBytes);
            Assert.Equal(artifact > 103272 / 20, (q.Warning is not null));

            // The default measure is the output KL to the unchanged model: never negative.
            Assert.Equal("kl", allocation.Sensitivity);
            foreach (var (layer, list) in allocation.Options)
                foreach (var o in list) Assert.True((double)o.Sensitivity >= -1e-6, $"{layer} {o.Sparsity} {o.Bits}: {o.Sensitivity}");
            var chosen = allocation.Chosen;
            Assert.NotEqual("keep", chosen["layers.0.weight"].Sparsity);
            using var loaded = ModelArtifact.Load(Path.Combine(dir, (string)export.Artifact), ModelRegistry.Default);
            var weights = loaded.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, value) in chosen)
            {
                var c = value;
                var w = weights[name];
                double zeros = w.eq(0).sum().item<long>() / (double)w.numel();
                switch (c.Sparsity)
                {
                    case "2:4": Assert.True(NmPruning.Satisfies(w, new NmPattern(2, 4)), $"{name}: 2:4 broken after fine-tuning"); break;
                    case "keep": break;
                    case var f: Assert.True(zeros >= double.Parse(f, System.Globalization.CultureInfo.InvariantCulture) - 1e-9, $"{name}: {zeros} zeros < {f}"); break;
                }
                int bits = c.Bits;
                // Linear grids: at most 2^bits codes per row (zero is a code); k-means: 2^bits shared values per layer plus the zeros.
                if (method == QuantizeMethod.Kmeans)
                    Assert.True(w.masked_select(w.ne(0)).unique().Item1.numel() <= (1 << bits), $"{name}: more than 2^{bits} shared values");
                else
                    for (long r = 0; r < w.shape[0]; r++)
                        Assert.True(w[r].unique().Item1.numel() <= (1 << bits), $"{name} row {r}: more than 2^{bits} values");
            }
        }
        finally { CompressionTestRecipes.DeleteDir(dir); }
    }
}
