using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Quantization;

/// <summary>
/// One-dimensional k-means (Lloyd's algorithm) with the linear initialisation of Deep Compression (Han et al. 2016,
/// §3.2): k centroids evenly spaced over [min, max] of the values. Linear initialisation keeps centroids on the rare
/// large weights, which matter most; density-based initialisations leave few of them. Each iteration assigns every value
/// to its nearest centroid (ties to the lower one) and moves each centroid to the mean of its values; a centroid
/// without values stays put. Stops when no assignment changes or after <c>maxIterations</c>.
/// </summary>
public static class KMeans1D
{
    /// <returns>Sorted centroids (k,) float32 and each value's cluster index (n,) int64.</returns>
    public static (Tensor Centroids, Tensor Assignments) Cluster(Tensor values, int k, int maxIterations = 100)
    {
        if (values.dim() != 1) throw new ArgumentException($"k-means expects a 1-D tensor, got shape [{string.Join(", ", values.shape)}].");
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "at least one cluster");
        using var scope = torch.NewDisposeScope();
        var x = values.detach().to(ScalarType.Float32);
        if (x.numel() == 0)
            return (torch.zeros(k, ScalarType.Float32, x.device).MoveToOuterDisposeScope(), torch.zeros(0, ScalarType.Int64, x.device).MoveToOuterDisposeScope());
        float min = x.min().item<float>(), max = x.max().item<float>();
        var centroids = k == 1 || max == min
            ? torch.full(k, (min + max) / 2, ScalarType.Float32, x.device)
            : torch.linspace(min, max, k, ScalarType.Float32, x.device);
        var assign = Assign(x, centroids);
        for (int it = 0; it < maxIterations; it++)
        {
            var sums = torch.zeros(k, ScalarType.Float32, x.device).scatter_add(0, assign, x);
            var counts = torch.bincount(assign, null, k).to(ScalarType.Float32);
            centroids = torch.where(counts.gt(0), sums / counts.clamp_min(1), centroids);
            centroids = centroids.sort().Values;
            var next = Assign(x, centroids);
            bool stable = next.eq(assign).all().item<bool>();
            assign = next;
            if (stable) break;
        }
        return (centroids.MoveToOuterDisposeScope(), assign.MoveToOuterDisposeScope());
    }

    /// <summary>Nearest sorted centroid of every value: bucketize against the midpoints between neighbours.</summary>
    public static Tensor Assign(Tensor values, Tensor sortedCentroids)
    {
        if (sortedCentroids.numel() == 1) return torch.zeros(values.numel(), ScalarType.Int64, values.device);
        using var mids = (sortedCentroids.narrow(0, 0, sortedCentroids.numel() - 1) + sortedCentroids.narrow(0, 1, sortedCentroids.numel() - 1)) / 2;
        return torch.bucketize(values, mids);
    }
}
