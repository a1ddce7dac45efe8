using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Pruning;

/// <summary>
/// N:M masks by magnitude: a weight of shape (out, …) is viewed as rows of length K = numel/out (the reduction
/// dimension of a Linear's (out, in), or in·kh·kw of a conv kernel in row-major order); each row is cut into groups of M
/// consecutive entries and the N largest |w| of each group are kept (ties: lower index kept). K must be a multiple of M.
/// </summary>
public static class NmPruning
{
    /// <summary>The N:M mask of one weight; entries already masked by <paramref name="current"/> are kept only when a group
    /// has fewer than N live entries.</summary>
    public static Tensor Mask(Tensor weight, Tensor current, NmPattern pattern, string name)
    {
        var (rows, groups) = Groups(weight, pattern, name);
        using var scope = torch.NewDisposeScope();
        var score = MagnitudePruning.Score(weight, current).view(rows, groups, pattern.M); // (rows, K/M, M)
        // Stable descending sort: among equal scores the lower index comes first and is kept.
        var order = score.sort(dim: -1, descending: true, stable: true).Indices.narrow(-1, 0, pattern.N); // (rows, K/M, N)
        var mask = torch.zeros(rows, groups, pattern.M, ScalarType.Bool, weight.device);
        mask.scatter_(-1, order, torch.ones(order.shape, ScalarType.Bool, weight.device));
        return mask.view(weight.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Prunes every weight of <paramref name="masks"/> to the pattern.</summary>
    public static void Prune(MaskSet masks, NmPattern pattern)
    {
        foreach (var name in masks.Names)
        {
            using var m = Mask(masks.WeightOf(name), masks[name], pattern, name);
            masks.Set(name, m);
        }
    }

    /// <summary>True when the pattern can apply to the weight: a matrix or kernel whose rows are a multiple of M long.</summary>
    public static bool Fits(Tensor weight, NmPattern pattern) => weight.dim() >= 2 && weight.numel() / weight.shape[0] % pattern.M == 0;

    /// <summary>True when every group of M consecutive entries of every row has at most N non-zeros.</summary>
    public static bool Satisfies(Tensor weight, NmPattern pattern)
    {
        if (!Fits(weight, pattern)) return false;
        using var scope = torch.NewDisposeScope();
        long rows = weight.shape[0], groups = weight.numel() / rows / pattern.M;
        return weight.ne(0).view(rows, groups, pattern.M).sum(-1).le(pattern.N).all().item<bool>();
    }

    /// <summary>Rows and groups per row of a weight under <paramref name="pattern"/>; a clear error when it does not divide.</summary>
    public static (long Rows, long Groups) Groups(Tensor weight, NmPattern pattern, string name)
    {
        if (weight.dim() < 2)
            throw new ArgumentException($"N:M pruning needs a matrix or conv kernel; '{name}' has shape [{string.Join(", ", weight.shape)}].");
        long rows = weight.shape[0], k = weight.numel() / rows;
        if (k % pattern.M != 0)
            throw new ArgumentException(
                $"N:M pruning {pattern}: '{name}' has rows of {k} weights, not a multiple of M = {pattern.M}. " +
                "Exclude it with a pruning 'exclude' pattern or choose an M that divides the row length.");
        return (rows, k / pattern.M);
    }
}
