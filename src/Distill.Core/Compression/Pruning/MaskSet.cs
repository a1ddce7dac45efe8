using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Compression.Pruning;

/// <summary>
/// Binary pruning masks keyed by parameter name (<c>layers.0.weight</c>), one boolean tensor per pruned weight, with
/// the weight it applies to. <see cref="Apply"/> multiplies each weight by its mask in place under <c>no_grad</c>; the
/// pruning callback calls it after every optimizer step, so a pruned weight is exactly zero whenever anything reads
/// the model (evaluation, checkpoints, export). The masks are buffers of this module, named by parameter name, so a
/// checkpoint that saves this module's state dict saves the masks and a strict load restores them.
/// </summary>
public sealed class MaskSet : nn.Module
{
    private readonly List<Entry> _entries = [];
    private readonly Dictionary<string, Entry> _byName = new(StringComparer.Ordinal);

    private sealed record Entry(string Name, Parameter Weight, Tensor Mask);

    /// <summary>Masks for <paramref name="weights"/>, each starting as <c>weight != 0</c> (so weights pruned by an earlier
    /// stage stay pruned; a dense weight starts all-true).</summary>
    public MaskSet(IEnumerable<PrunableWeight> weights) : base("masks")
    {
        using var _ = torch.no_grad();
        foreach (var w in weights)
        {
            if (_byName.ContainsKey(w.Name)) throw new ArgumentException($"Weight '{w.Name}' is listed twice.", nameof(weights));
            var mask = w.Weight.detach().ne(0);
            register_buffer(w.Name, mask);
            var e = new Entry(w.Name, w.Weight, mask);
            _entries.Add(e);
            _byName[w.Name] = e;
        }
    }

    public IReadOnlyList<string> Names => _entries.Select(e => e.Name).ToList();

    public int Count => _entries.Count;

    /// <summary>The live mask of a weight (true = kept).</summary>
    public Tensor this[string name] => Get(name).Mask;

    /// <summary>The weight a mask applies to.</summary>
    public Parameter WeightOf(string name) => Get(name).Weight;

    /// <summary>Replaces a weight's mask (copied into the existing buffer, so checkpoints keep pointing at it).</summary>
    public void Set(string name, Tensor mask)
    {
        var e = Get(name);
        if (!e.Mask.shape.SequenceEqual(mask.shape))
            throw new ArgumentException($"Mask for '{name}' has shape [{string.Join(", ", mask.shape)}]; the weight is [{string.Join(", ", e.Mask.shape)}].");
        using var _ = torch.no_grad();
        e.Mask.copy_(mask.to(ScalarType.Bool));
    }

    /// <summary>Zeroes every pruned weight: <c>w.mul_(mask)</c> under <c>no_grad</c>.</summary>
    public void Apply()
    {
        using var _ = torch.no_grad();
        foreach (var e in _entries) e.Weight.mul_(e.Mask);
    }

    /// <summary>Number of weights covered by the masks.</summary>
    public long TotalWeights => _entries.Sum(e => e.Mask.numel());

    /// <summary>Number of kept (true) entries of one mask.</summary>
    public long Kept(string name) => Get(name).Mask.sum().item<long>();

    /// <summary>Fraction of a weight's entries that are pruned.</summary>
    public double Sparsity(string name) => 1.0 - (double)Kept(name) / Math.Max(1, Get(name).Mask.numel());

    /// <summary>Fraction of all covered entries that are pruned.</summary>
    public double OverallSparsity() => 1.0 - (double)_entries.Sum(e => Kept(e.Name)) / Math.Max(1, TotalWeights);

    private Entry Get(string name) => _byName.TryGetValue(name, out var e)
        ? e
        : throw new KeyNotFoundException($"No mask for '{name}'. Masked weights: {string.Join(", ", _byName.Keys)}.");
}
