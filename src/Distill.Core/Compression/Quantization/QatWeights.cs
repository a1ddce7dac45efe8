using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Compression.Quantization;

/// <summary>
/// Quantization-aware training of weights with the straight-through estimator (Bengio et al. 2013; Jacob et al. 2018).
/// The model's weight holds q(latent) during forward and backward, so the loss sees the quantized network and the
/// gradient computed at the quantized point is used for the latent weight unchanged (STE: ∂q/∂w = 1). The latent
/// float weights are buffers here (<c>&lt;weight&gt;.latent</c>, checkpointed). Around each optimizer step:
/// <see cref="BeforeStep"/> puts the latent weights back into the parameters (their gradients stay), the optimizer
/// updates them as usual, and <see cref="AfterStep"/> re-applies the pruning mask, stores the new latent weights and
/// writes q(latent) — on a grid recomputed from the latent weights' range — into the parameters again.
/// </summary>
public sealed class QatWeights : nn.Module
{
    private readonly List<Entry> _entries = [];

    private sealed record Entry(string Name, Parameter Weight, Tensor Mask, Tensor Latent, QuantScheme Scheme);

    public QatWeights(IEnumerable<(PrunableWeight Weight, QuantScheme Scheme)> weights, MaskSet masks) : base("qat_weights")
    {
        using var _ = torch.no_grad();
        foreach (var (w, scheme) in weights)
        {
            var e = new Entry(w.Name, w.Weight, masks[w.Name], w.Weight.detach().clone(), scheme);
            register_buffer($"{w.Name}.latent", e.Latent);
            _entries.Add(e);
        }
    }

    public IReadOnlyList<string> Names => _entries.Select(e => e.Name).ToList();

    public QuantScheme SchemeOf(string name) => _entries.Single(e => e.Name == name).Scheme;

    /// <summary>The grids of the current latent weights (what the parameters are quantized on).</summary>
    public IReadOnlyDictionary<string, LinearQuantParams> Grids() =>
        _entries.ToDictionary(e => e.Name, e => WeightQuantizer.Grid(e.Latent, e.Scheme));

    /// <summary>Fresh start: the current weights become the latent weights; the parameters get q(latent).</summary>
    public void Start()
    {
        using (torch.no_grad())
            foreach (var e in _entries) e.Latent.copy_(e.Weight.detach());
        Quantize();
    }

    /// <summary>Writes q(latent) into every parameter.</summary>
    public void Quantize()
    {
        using var _ = torch.no_grad();
        foreach (var e in _entries)
        {
            using var scope = torch.NewDisposeScope();
            e.Weight.copy_(WeightQuantizer.FakeQuantize(e.Latent, WeightQuantizer.Grid(e.Latent, e.Scheme)));
        }
    }

    public void BeforeStep()
    {
        using var _ = torch.no_grad();
        foreach (var e in _entries) e.Weight.copy_(e.Latent);
    }

    public void AfterStep()
    {
        using (torch.no_grad())
            foreach (var e in _entries)
            {
                e.Weight.mul_(e.Mask);
                e.Latent.copy_(e.Weight.detach());
            }
        Quantize();
    }
}
