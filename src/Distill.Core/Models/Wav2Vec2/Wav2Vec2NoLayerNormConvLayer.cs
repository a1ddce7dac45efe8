using Distill.Models.Hf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// Feature-encoder conv layer without normalisation (layers 1.. of the "group" variant): Conv1d → activation.
/// Parameters: <c>conv.weight</c> (out, in, k) and, with <c>conv_bias</c>, <c>conv.bias</c>.
/// </summary>
public sealed class Wav2Vec2NoLayerNormConvLayer : nn.Module<Tensor, Tensor>
{
    private readonly Conv1d conv;
    private readonly Func<Tensor, Tensor> _activation;

    public Wav2Vec2NoLayerNormConvLayer(Wav2Vec2Config config, int layerId) : base(nameof(Wav2Vec2NoLayerNormConvLayer))
    {
        long inDim = layerId > 0 ? config.ConvDim[layerId - 1] : 1;
        conv = ParamInit.Redraw(nn.Conv1d(inDim, config.ConvDim[layerId], config.ConvKernel[layerId], stride: config.ConvStride[layerId], bias: config.ConvBias));
        Wav2Vec2Init.Conv(conv, inDim, config.ConvKernel[layerId]);
        _activation = HfActivation.Get(config.FeatExtractActivation, "wav2vec2", "feat_extract_activation");
        RegisterComponents();
    }

    /// <summary>(B, C_in, L) → (B, C_out, L').</summary>
    public override Tensor forward(Tensor x) => _activation(conv.call(x));
}
