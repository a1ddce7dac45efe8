using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// Pre-norm transformer layer (do_stable_layer_norm = true):
/// x ← x + dropout(attn(LN(x))); x ← x + ffn(final_LN(x)).
/// </summary>
public sealed class Wav2Vec2EncoderLayerStableLayerNorm : nn.Module<Tensor, Tensor?, bool, (Tensor Hidden, Tensor? Attention)>
{
    private readonly Wav2Vec2Attention attention;
    private readonly SeededDropout dropout;
    private readonly LayerNorm layer_norm;
    private readonly Wav2Vec2FeedForward feed_forward;
    private readonly LayerNorm final_layer_norm;

    public Wav2Vec2EncoderLayerStableLayerNorm(Wav2Vec2Config config) : base(nameof(Wav2Vec2EncoderLayerStableLayerNorm))
    {
        attention = new Wav2Vec2Attention(config);
        dropout = new SeededDropout(config.HiddenDropout);
        layer_norm = Wav2Vec2Init.LayerNorm(config.HiddenSize, config.LayerNormEps);
        feed_forward = new Wav2Vec2FeedForward(config);
        final_layer_norm = Wav2Vec2Init.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    /// <summary>(B, T, D), additive mask → (B, T, D) and optionally (B, heads, T, T).</summary>
    public override (Tensor Hidden, Tensor? Attention) forward(Tensor hidden, Tensor? additiveMask, bool outputAttentions)
    {
        var (attn, weights) = attention.call(layer_norm.call(hidden), additiveMask, outputAttentions);
        var h = hidden + dropout.call(attn);
        h = h + feed_forward.call(final_layer_norm.call(h));
        return (h, weights);
    }
}
