using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Quantization;

/// <summary>
/// Automatic per-layer bit widths under a byte budget (mixed precision; cf. HAQ, Wang et al. 2019, and HAWQ, Dong et
/// al. 2019, which rank layers by measured or Hessian sensitivity). For every selected layer and candidate width the
/// layer alone is quantized (others float) and the increase of the loss on a few training batches is measured, and
/// the layer's artifact record is sized exactly by the encoder. Assuming the increases add up, the allocation that
/// minimises their sum with total bytes ≤ budget is a multiple-choice knapsack, solved exactly by <see cref="Solve"/>.
/// </summary>
public static class BitAllocation
{
    /// <summary>
    /// The option index per layer minimising Σ sensitivity with Σ bytes ≤ <paramref name="budget"/>, or null when even the
    /// smallest options do not fit. Exact: layer by layer it keeps the Pareto front of (bytes, sensitivity) partial
    /// allocations (a partial allocation with more bytes and no less sensitivity than another can never be better).
    /// </summary>
    public static int[]? Solve(IReadOnlyList<IReadOnlyList<BitOption>> layers, long budget)
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

    /// <summary>Measures every (layer, width) option of <paramref name="weights"/>.</summary>
    /// <param name="quantize">The quantized copy of a weight at a width (k-means centroids or a linear grid), and its grid when linear.</param>
    /// <param name="loss">Mean loss of the model over the sensitivity batches (called in eval mode, no gradients).</param>
    public static IReadOnlyList<IReadOnlyList<BitOption>> Measure(DistillModel model, IReadOnlyList<PrunableWeight> weights, IReadOnlyList<int> candidates,
        Func<PrunableWeight, int, (Tensor Quantized, LinearQuantParams? Grid)> quantize, Func<double> loss, ArtifactOptions options)
    {
        model.eval();
        double baseline = loss();
        var result = new List<IReadOnlyList<BitOption>>();
        foreach (var w in weights)
        {
            var layer = new List<BitOption>();
            using var original = w.Weight.detach().clone();
            foreach (int bits in candidates)
            {
                var (q, grid) = quantize(w, bits);
                using (q)
                {
                    var layerOptions = grid is null ? options : options with { Linear = new Dictionary<string, LinearQuantParams> { [w.Name] = grid } };
                    // The record without its name: the name's bytes do not depend on the width (the caller counts them once).
                    long bytes = ArtifactEncoder.PlanTensor(w.Name, q, layerOptions).EncodingBytes;
                    using (torch.no_grad()) w.Weight.copy_(q);
                    double sensitivity = loss() - baseline;
                    using (torch.no_grad()) w.Weight.copy_(original);
                    layer.Add(new BitOption(bits, bytes, sensitivity));
                }
            }
            result.Add(layer);
        }
        return result;
    }
}
