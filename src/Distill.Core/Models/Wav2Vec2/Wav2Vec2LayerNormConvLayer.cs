using Distill.Models.Hf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// Feature-encoder conv layer of the "layer" variant (every layer): Conv1d → LayerNorm over the channels of each
/// frame (transpose, normalise, transpose back; eps 1e-5 as HF's <c>nn.LayerNorm</c> default) → activation.
/// Parameters: <c>conv.weight</c>, <c>conv.bias</c> (with conv_bias), <c>layer_norm.weight</c>, <c>layer_norm.bias</c>.
/// </summary>
public sealed class Wav2Vec2LayerNormConvLayer : nn.Module<Tensor, Tensor>
{
    private readonly Conv1d conv;
    private readonly LayerNorm layer_norm;
    private readonly Func<Tensor, Tensor> _activation;

    public Wav2Vec2LayerNormConvLayer(Wav2Vec2Config config, int layerId) : base(nameof(Wav2Vec2LayerNormConvLayer))
    {
        long inDim = layerId > 0 ? config.ConvDim[layerId - 1] : 1;
        long outDim = config.ConvDim[layerId];
        conv = ParamInit.Redraw(nn.Conv1d(inDim, outDim, config.ConvKernel[layerId], stride: config.ConvStride[layerId], bias: config.ConvBias));
        Wav2Vec2Init.Conv(conv, inDim, config.ConvKernel[layerId]);
        layer_norm = Wav2Vec2Init.LayerNorm(outDim, 1e-5);
        _activation = HfActivation.Get(config.FeatExtractActivation, "wav2vec2", "feat_extract_activation");
        RegisterComponents();
    }

    /// <summary>(B, C_in, L) → (B, C_out, L').</summary>
    public override Tensor forward(Tensor x)
    {
        var h = conv.call(x);                              // (B, C, L')
        h = layer_norm.call(h.transpose(-2, -1)).transpose(-2, -1); // normalise over C per frame
        return _activation(h);
    }
}
