using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// The convolutional feature encoder (HF <c>feature_extractor</c>): raw audio (B, L) → (B, conv_dim[-1], T) with
/// T = floor((L − k)/s) + 1 applied per layer (320 samples per frame, receptive field 400 for the wav2vec2 layout).
/// "group": <see cref="Wav2Vec2GroupNormConvLayer"/> then <see cref="Wav2Vec2NoLayerNormConvLayer"/>s;
/// "layer": <see cref="Wav2Vec2LayerNormConvLayer"/> everywhere. Children: <c>conv_layers.{i}</c>.
/// </summary>
public sealed class Wav2Vec2FeatureEncoder : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> conv_layers;

    public Wav2Vec2FeatureEncoder(Wav2Vec2Config config) : base(nameof(Wav2Vec2FeatureEncoder))
    {
        conv_layers = new ModuleList<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < config.NumConvLayers; i++)
        {
            conv_layers.Add(config.FeatExtractNorm switch
            {
                "group" when i == 0 => new Wav2Vec2GroupNormConvLayer(config, i),
                "group" => new Wav2Vec2NoLayerNormConvLayer(config, i),
                "layer" => new Wav2Vec2LayerNormConvLayer(config, i),
                _ => throw new ArgumentException($"wav2vec2 config: feat_extract_norm '{config.FeatExtractNorm}' is not supported; use \"group\" or \"layer\"."),
            });
        }
        RegisterComponents();
    }

    /// <summary>(B, L) → (B, C, T).</summary>
    public override Tensor forward(Tensor inputValues)
    {
        var h = inputValues.unsqueeze(1); // (B, 1, L)
        foreach (var layer in conv_layers) h = layer.call(h);
        return h;
    }
}
