using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Pruning;

/// <summary>
/// Unstructured magnitude pruning (Han et al. 2015, "Learning both Weights and Connections"): the entries with the
/// smallest |w| are removed. Per layer, each weight loses round(s·n) entries; globally, one threshold over all selected
/// weights removes round(s·Σn) entries, so layers with many small weights lose more. Masks only grow sparser: entries
/// already masked score below every live one and are removed first. Ties at the threshold are broken by flat index, so
/// the number removed is exact and the result deterministic.
/// </summary>
public static class MagnitudePruning
{
    /// <summary>A new mask for one weight with round(<paramref name="sparsity"/>·n) entries removed (at least those already
    /// removed by <paramref name="current"/>).</summary>
    public static Tensor LayerMask(Tensor weight, Tensor current, double sparsity)
    {
        CheckSparsity(sparsity);
        using var scope = torch.NewDisposeScope();
        var score = Score(weight, current).flatten();
        long k = Math.Max(Target(sparsity, score.numel()), current.numel() - current.sum().item<long>());
        return KeepAllButSmallest(score, k).view(weight.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Prunes every weight of <paramref name="masks"/> to <paramref name="sparsity"/>; <paramref name="perLayer"/>
    /// overrides the sparsity of single weights by name.</summary>
    public static void PruneLayers(MaskSet masks, double sparsity, Func<string, double?>? perLayer = null)
    {
        foreach (var name in masks.Names)
        {
            double s = perLayer?.Invoke(name) ?? sparsity;
            using var m = LayerMask(masks.WeightOf(name), masks[name], s);
            masks.Set(name, m);
        }
    }

    /// <summary>One threshold over all weights of <paramref name="masks"/>: round(s·Σn) entries removed in total.</summary>
    public static void PruneGlobal(MaskSet masks, double sparsity)
    {
        CheckSparsity(sparsity);
        if (masks.Count == 0) return;
        using var scope = torch.NewDisposeScope();
        var names = masks.Names;
        var scores = names.Select(n => Score(masks.WeightOf(n), masks[n]).flatten().cpu()).ToList();
        var all = torch.cat(scores, 0);
        long alreadyPruned = names.Sum(n => masks[n].numel() - masks.Kept(n));
        long k = Math.Max(Target(sparsity, all.numel()), alreadyPruned);
        var keep = KeepAllButSmallest(all, k);
        long offset = 0;
        foreach (var n in names)
        {
            var mask = masks[n];
            long count = mask.numel();
            masks.Set(n, keep.narrow(0, offset, count).view(mask.shape).to(mask.device));
            offset += count;
        }
    }

    /// <summary>|w| as float32, with masked entries at -1 so they are removed before any live entry.</summary>
    internal static Tensor Score(Tensor weight, Tensor mask)
    {
        var score = weight.detach().abs().to(ScalarType.Float32);
        return torch.where(mask, score, torch.full_like(score, -1f));
    }

    /// <summary>A boolean vector, true except at the <paramref name="k"/> smallest scores (ties: lower index removed first).</summary>
    internal static Tensor KeepAllButSmallest(Tensor score, long k)
    {
        long n = score.numel();
        if (k <= 0) return torch.ones(n, ScalarType.Bool, score.device);
        if (k >= n) return torch.zeros(n, ScalarType.Bool, score.device);
        var threshold = score.kthvalue(k, 0).values; // the k-th smallest score
        var keep = score.gt(threshold);
        var below = score.lt(threshold);
        long removeAtThreshold = k - below.sum().item<long>();
        // Ties: keep the entries equal to the threshold except the first removeAtThreshold of them.
        var ties = score.eq(threshold).nonzero().flatten();
        if (removeAtThreshold < ties.numel())
            keep.index_put_(torch.ones(ties.numel() - removeAtThreshold, ScalarType.Bool, score.device),
                ties.narrow(0, removeAtThreshold, ties.numel() - removeAtThreshold));
        return keep;
    }

    internal static long Target(double sparsity, long n) => (long)Math.Round(sparsity * n, MidpointRounding.AwayFromZero);

    private static void CheckSparsity(double sparsity)
    {
        if (sparsity is < 0 or > 1 || double.IsNaN(sparsity))
            throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "Sparsity is a fraction in [0, 1].");
    }
}
