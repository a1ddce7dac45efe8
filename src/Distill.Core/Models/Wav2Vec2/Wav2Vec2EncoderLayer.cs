using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// Post-norm transformer layer (do_stable_layer_norm = false):
/// x ← LN(x + dropout(attn(x))); x ← final_LN(x + ffn(x)).
/// </summary>
public sealed class Wav2Vec2EncoderLayer : nn.Module<Tensor, Tensor?, bool, (Tensor Hidden, Tensor? Attention)>
{
    private readonly Wav2Vec2Attention attention;
    private readonly SeededDropout dropout;
    private readonly LayerNorm layer_norm;
    private readonly Wav2Vec2FeedForward feed_forward;
    private readonly LayerNorm final_layer_norm;

    public Wav2Vec2EncoderLayer(Wav2Vec2Config config) : base(nameof(Wav2Vec2EncoderLayer))
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
        var (attn, weights) = attention.call(hidden, additiveMask, outputAttentions);
        var h = layer_norm.call(hidden + dropout.call(attn));
        h = final_layer_norm.call(h + feed_forward.call(h));
        return (h, weights);
    }
}
