using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Allocation;

/// <summary>
/// Automatic per-layer sparsity and bit width under a byte budget (mixed precision as in HAQ, Wang et al. 2019, and
/// HAWQ, Dong et al. 2019, which rank layers by measured or Hessian sensitivity; per-layer sparsity from measured
/// sensitivity as in Deep Compression's pruning analysis, Han et al. 2016, and AMC, He et al. 2018). For every selected
/// layer and every (sparsity, width) candidate the layer alone is pruned and quantized (the others stay as they are),
/// the increase of the loss on a few training batches is measured, and the layer's artifact record is sized exactly by
/// the encoder. Assuming the increases add up, the allocation that minimises their sum with total bytes ≤ budget is a
/// multiple-choice knapsack, solved exactly by <see cref="Solve"/>.
/// </summary>
public static class BudgetAllocation
{
    /// <summary>
    /// The option index per layer minimising Σ sensitivity with Σ bytes ≤ <paramref name="budget"/>, or null when even the
    /// smallest options do not fit. Exact: layer by layer it keeps the Pareto front of (bytes, sensitivity) partial
    /// allocations (a partial allocation with more bytes and no less sensitivity than another can never be better).
    /// </summary>
    public static int[]? Solve(IReadOnlyList<IReadOnlyList<LayerOption>> layers, long budget)
    {
        // Each front entry: (bytes, sensitivity, choices so far).
        var front = new List<(long Bytes, double Sens, int[] Choice)> { (0, 0, []) };
        for (int l = 0; l < layers.Count; l++)
        {
            var next = new List<(long, double, int[])>();
            foreach (var (bytes, sens, choice) in front)
                for (int o = 0; o < layers[l].Count; o++)
                {
                    long b = bytes + layers[l][o].Bytes;
                    if (b > budget) continue;
                    next.Add((b, sens + layers[l][o].Sensitivity, [.. choice, o]));
                }
            // Pareto filter: sort by bytes, keep entries that strictly lower the best sensitivity so far.
            front = [];
            double best = double.PositiveInfinity;
            foreach (var e in next.OrderBy(e => e.Item1).ThenBy(e => e.Item2))
                if (e.Item2 < best) { front.Add(e); best = e.Item2; }
            if (front.Count == 0) return null;
        }
        return front.MinBy(e => e.Sens).Choice;
    }

    /// <summary>
    /// Measures every (layer, sparsity, width) option of <paramref name="weights"/>. A sparsity that cannot apply to a
    /// layer (N:M on rows that M does not divide) is left out of that layer's options and reported in
    /// <paramref name="skipped"/>; a layer to which none applies gets <see cref="SparsityChoice.Keep"/> (its current mask),
    /// which always applies, so every layer has options.
    /// </summary>
    /// <param name="quantize">The quantized copy of a (pruned) weight at a width under its mask (k-means centroids of the
    /// kept entries, or a linear grid), and its grid when linear.</param>
    /// <param name="loss">Mean loss of the model over the sensitivity batches (called in eval mode, no gradients).</param>
    public static IReadOnlyList<IReadOnlyList<LayerOption>> Measure(DistillModel model, IReadOnlyList<PrunableWeight> weights, MaskSet masks,
        IReadOnlyList<SparsityChoice> sparsities, IReadOnlyList<int> widths,
        Func<PrunableWeight, Tensor, Tensor, int, (Tensor Quantized, LinearQuantParams? Grid)> quantize, Func<double> loss, ArtifactOptions options,
        out IReadOnlyList<string> skipped)
    {
        model.eval();
        double baseline = loss();
        var result = new List<IReadOnlyList<LayerOption>>();
        var notApplicable = new List<string>();
        foreach (var w in weights)
        {
            var layer = new List<LayerOption>();
            using var original = w.Weight.detach().clone();
            void MeasureUnder(SparsityChoice sparsity)
            {
                using var mask = sparsity.Mask(original, masks[w.Name], w.Name, out string? whyNot);
                if (mask is null) { notApplicable.Add(whyNot!); return; }
                using var pruned = original.mul(mask);
                foreach (int bits in widths)
                {
                    var (q, grid) = quantize(w, pruned, mask, bits);
                    using (q)
                    {
                        var layerOptions = grid is null ? options : options with { Linear = new Dictionary<string, LinearQuantParams> { [w.Name] = grid } };
                        // The record without its name: the name's bytes do not depend on the choice (the caller counts them once).
                        long bytes = ArtifactEncoder.PlanTensor(w.Name, q, layerOptions).EncodingBytes;
                        using (torch.no_grad()) w.Weight.copy_(q);
                        double sensitivity = loss() - baseline;
                        using (torch.no_grad()) w.Weight.copy_(original);
                        layer.Add(new LayerOption(sparsity, bits, bytes, sensitivity));
                    }
                }
            }
            foreach (var sparsity in sparsities) MeasureUnder(sparsity);
            // A layer none of the listed sparsities applies to keeps its current mask, which always applies.
            if (layer.Count == 0) MeasureUnder(SparsityChoice.Keep);
            result.Add(layer);
        }
        skipped = notApplicable;
        return result;
    }
}
