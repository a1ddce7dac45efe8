using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>
/// One pre-norm transformer block: x ← x + Attn(LN_before(x)); x ← x + FFN(LN_after(x)).
/// Paths: <c>attention</c>, <c>intermediate</c>, <c>output</c>, <c>layernorm_before</c>, <c>layernorm_after</c>.
/// Returns the block output (B, T, D) and the attention probabilities (B, heads, T, T).
/// </summary>
public sealed class ViTLayer : nn.Module<Tensor, (Tensor Hidden, Tensor Probs)>
{
    private readonly ViTAttention attention;
    private readonly ViTIntermediate intermediate;
    private readonly ViTOutput output;
    private readonly LayerNorm layernorm_before;
    private readonly LayerNorm layernorm_after;

    /// <param name="config">The model's config.</param>
    /// <param name="index">Index of this layer in the encoder (selects its pruned heads).</param>
    public ViTLayer(ViTConfig config, int index) : base("ViTLayer")
    {
        attention = new ViTAttention(config, index);
        intermediate = new ViTIntermediate(config);
        output = new ViTOutput(config);
        layernorm_before = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        layernorm_after = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    public override (Tensor Hidden, Tensor Probs) forward(Tensor hidden)
    {
        var (attended, probs) = attention.call(layernorm_before.call(hidden));
        var x = attended + hidden;                                          // first residual (B, T, D)
        var y = output.call(intermediate.call(layernorm_after.call(x)), x); // second residual inside ViTOutput
        return (y, probs);
    }
}
