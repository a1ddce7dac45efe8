using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>Self-attention followed by its output projection. Paths: <c>attention</c> (<see cref="ViTSelfAttention"/>), <c>output</c> (<see cref="ViTSelfOutput"/>).</summary>
public sealed class ViTAttention : nn.Module<Tensor, (Tensor Output, Tensor Probs)>
{
    private readonly ViTSelfAttention attention;
    private readonly ViTSelfOutput output;

    /// <param name="config">The model's config.</param>
    /// <param name="layer">Index of the encoder layer (selects its pruned heads).</param>
    public ViTAttention(ViTConfig config, int layer) : base("ViTAttention")
    {
        attention = new ViTSelfAttention(config, layer);
        output = new ViTSelfOutput(config, layer);
        RegisterComponents();
    }

    public override (Tensor Output, Tensor Probs) forward(Tensor hidden)
    {
        var (context, probs) = attention.call(hidden);
        return (output.call(context), probs); // (B, T, D), (B, heads, T, T)
    }
}
