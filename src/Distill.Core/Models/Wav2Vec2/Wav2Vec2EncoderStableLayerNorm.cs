using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// Pre-norm encoder (do_stable_layer_norm = true, wav2vec2-large-lv60 / XLS-R): x ← dropout(x + pos_conv(x)), the
/// <see cref="Wav2Vec2EncoderLayerStableLayerNorm"/>s, then a final <c>layer_norm</c>. Hidden states: the input of
/// each layer, then the final normed output (L + 1 entries; the last equals last_hidden_state).
/// </summary>
public sealed class Wav2Vec2EncoderStableLayerNorm : nn.Module<Tensor, Tensor?, bool, Wav2Vec2EncoderOutput>, IStochasticModule
{
    private readonly Wav2Vec2PositionalConvEmbedding pos_conv_embed;
    private readonly LayerNorm layer_norm;
    private readonly SeededDropout dropout;
    private readonly ModuleList<Wav2Vec2EncoderLayerStableLayerNorm> layers;
    private readonly double _layerDrop;

    public Wav2Vec2EncoderStableLayerNorm(Wav2Vec2Config config) : base(nameof(Wav2Vec2EncoderStableLayerNorm))
    {
        pos_conv_embed = new Wav2Vec2PositionalConvEmbedding(config);
        layer_norm = Wav2Vec2Init.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = new SeededDropout(config.HiddenDropout);
        layers = new ModuleList<Wav2Vec2EncoderLayerStableLayerNorm>();
        for (int i = 0; i < config.NumHiddenLayers; i++) layers.Add(new Wav2Vec2EncoderLayerStableLayerNorm(config));
        _layerDrop = config.LayerDrop;
        RegisterComponents();
    }

    /// <summary>LayerDrop's generator.</summary>
    public Generator? Generator { get; set; }

    /// <param name="hidden">(B, T, D) projected features.</param>
    /// <param name="featureMask">(B, T) bool/int frame mask (1 = real), or null.</param>
    /// <param name="outputAttentions">Collect attention probabilities.</param>
    public override Wav2Vec2EncoderOutput forward(Tensor hidden, Tensor? featureMask, bool outputAttentions)
    {
        Wav2Vec2EncoderSupport.CheckAttentionsWithLayerDrop(training, _layerDrop, outputAttentions);
        var (h, additive) = Wav2Vec2EncoderSupport.ApplyMask(hidden, featureMask);
        h = dropout.call(h + pos_conv_embed.call(h));
        var states = new List<Tensor>();
        var attentions = new List<Tensor>();
        foreach (var layer in layers)
        {
            states.Add(h);
            if (Wav2Vec2EncoderSupport.Skip(training, _layerDrop, Generator)) continue;
            var (next, weights) = layer.call(h, additive, outputAttentions);
            h = next;
            if (weights is not null) attentions.Add(weights);
        }
        h = layer_norm.call(h);
        states.Add(h);
        return new Wav2Vec2EncoderOutput(h, states, attentions);
    }
}
