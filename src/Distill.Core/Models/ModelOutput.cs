using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// What every model returns. Families derive their own record (for example <c>BertOutput</c> adds
/// <c>LastHiddenState</c> and <c>PoolerOutput</c>); the distillation losses read only these members.
/// </summary>
public record ModelOutput(Tensor Logits)
{
    /// <summary>Per-layer outputs, index 0 = the embedding (input) stage, then one per layer: (B, T, D) or (B, C, H, W) or (B, D).</summary>
    public IReadOnlyList<Tensor> HiddenStates { get; init; } = Array.Empty<Tensor>();

    /// <summary>Attention probabilities per layer, (B, heads, T, T); filled only when <see cref="DistillModel.OutputAttentions"/> is set.</summary>
    public IReadOnlyList<Tensor> Attentions { get; init; } = Array.Empty<Tensor>();

    /// <summary>The model's own loss when labels were given and the family computes one (HF heads); null otherwise.</summary>
    public Tensor? Loss { get; init; }
}
