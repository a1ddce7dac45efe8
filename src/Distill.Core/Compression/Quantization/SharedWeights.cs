using Distill.Compression.Pruning;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Compression.Quantization;

/// <summary>
/// Weight sharing of Deep Compression (Han et al. 2016, §3): each selected weight's non-zero entries are clustered by
/// <see cref="KMeans1D"/> into 2^bits shared values; every entry then holds its centroid, pruned entries stay zero.
/// Fine-tuning trains the centroids, not the entries: the gradient of a centroid is the sum of the gradients of the
/// entries assigned to it, ∂L/∂c_k = Σ_{i: a_i = k} ∂L/∂w_i, applied with Adam (default) or SGD, after which the
/// entries are rewritten from their centroids. Assignments stay fixed. Centroids, assignments and the optimizer state
/// are buffers of this module (<c>&lt;weight&gt;.centroids</c>, <c>.assign</c>, <c>.exp_avg</c>, <c>.exp_avg_sq</c>, <c>step</c>),
/// so checkpoints carry them.
/// </summary>
public sealed class SharedWeights : nn.Module
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8;

    private readonly List<Entry> _entries = [];
    private readonly Tensor _step;

    private sealed record Entry(string Name, Parameter Weight, Tensor Mask, Tensor Centroids, Tensor Assign, Tensor ExpAvg, Tensor ExpAvgSq, int Bits);

    /// <param name="weights">The weights to share, with the bit width of each (2^bits clusters).</param>
    /// <param name="masks">Pruning masks of those weights (entries with a false mask stay zero and are not clustered).</param>
    public SharedWeights(IEnumerable<(PrunableWeight Weight, int Bits)> weights, MaskSet masks, bool adam = true)
        : this(weights, masks, adam, keepValues: false)
    {
    }

    /// <summary>Shares the values the weights already take (after an earlier k-means stage): each weight's distinct
    /// non-zeros are its centroids, unchanged, so fine-tuning moves shared values without re-clustering (a later
    /// codebook or Bloomier table then has the same number of entries). A weight with more than 256 distinct non-zeros
    /// is refused: it is not shared yet.</summary>
    public static SharedWeights OfCurrentValues(IEnumerable<PrunableWeight> weights, MaskSet masks, bool adam = true) =>
        new(weights.Select(w => (w, 8)), masks, adam, keepValues: true);

    private SharedWeights(IEnumerable<(PrunableWeight Weight, int Bits)> weights, MaskSet masks, bool adam, bool keepValues) : base("shared_weights")
    {
        Adam = adam;
        using var _ = torch.no_grad();
        foreach (var (w, bits0) in weights)
        {
            int bits = bits0;
            if (bits is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(weights), bits, $"'{w.Name}': k-means bits must be 1..8");
            var mask = masks[w.Name];
            var live = w.Weight.detach().masked_select(mask);
            Tensor centroids, liveAssign;
            if (keepValues)
            {
                centroids = live.numel() == 0 ? torch.zeros(1, ScalarType.Float32, live.device) : torch.unique(live.to(ScalarType.Float32), sorted: true).output;
                if (centroids.numel() > 256)
                    throw new ArgumentException($"'{w.Name}' has {centroids.numel()} distinct non-zeros; share its weights (quantize, method kmeans) before tying them.", nameof(weights));
                liveAssign = torch.searchsorted(centroids, live.to(ScalarType.Float32));
                bits = Math.Max(1, (int)Math.Ceiling(Math.Log2(centroids.numel())));
            }
            else (centroids, liveAssign) = KMeans1D.Cluster(live, 1 << bits);
            var assign = torch.zeros(w.Weight.shape, ScalarType.Int64, w.Weight.device);
            assign.masked_scatter_(mask, liveAssign);
            var e = new Entry(w.Name, w.Weight, mask, centroids, assign, torch.zeros_like(centroids), torch.zeros_like(centroids), bits);
            register_buffer($"{w.Name}.centroids", e.Centroids);
            register_buffer($"{w.Name}.assign", e.Assign);
            register_buffer($"{w.Name}.exp_avg", e.ExpAvg);
            register_buffer($"{w.Name}.exp_avg_sq", e.ExpAvgSq);
            _entries.Add(e);
        }
        _step = torch.zeros(1, ScalarType.Int64);
        register_buffer("step", _step);
    }

    public bool Adam { get; }

    public IReadOnlyList<string> Names => _entries.Select(e => e.Name).ToList();

    public int BitsOf(string name) => _entries.Single(e => e.Name == name).Bits;

    public Tensor CentroidsOf(string name) => _entries.Single(e => e.Name == name).Centroids;

    /// <summary>Writes every entry from its centroid (pruned entries zero).</summary>
    public void Apply()
    {
        using var _ = torch.no_grad();
        foreach (var e in _entries)
        {
            using var scope = torch.NewDisposeScope();
            e.Weight.copy_(e.Centroids.index_select(0, e.Assign.flatten()).view(e.Weight.shape) * e.Mask);
        }
    }

    /// <summary>One centroid update from the entries' current gradients (left by the last backward), then <see cref="Apply"/>.</summary>
    public void Step(double lr)
    {
        using (torch.no_grad())
        {
            _step.add_(1);
            long t = _step.item<long>();
            foreach (var e in _entries)
            {
                using var scope = torch.NewDisposeScope();
                if (e.Weight.grad is not { } grad) continue;
                var g = torch.zeros_like(e.Centroids).scatter_add(0, e.Assign.flatten(), (grad * e.Mask).flatten().to(ScalarType.Float32));
                if (Adam)
                {
                    e.ExpAvg.mul_(Beta1).add_(g, alpha: 1 - Beta1);
                    e.ExpAvgSq.mul_(Beta2).addcmul_(g, g, value: 1 - Beta2);
                    double bc1 = 1 - Math.Pow(Beta1, t), bc2 = 1 - Math.Pow(Beta2, t);
                    var denom = (e.ExpAvgSq / bc2).sqrt_().add_(Eps);
                    e.Centroids.addcdiv_(e.ExpAvg, denom, value: -lr / bc1);
                }
                else e.Centroids.add_(g, alpha: -lr);
            }
        }
        Apply();
    }
}
