using Distill.Models.Hf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// First feature-encoder conv layer of the "group" variant: Conv1d → GroupNorm with one group per channel (each
/// channel normalised over time, per example; eps 1e-5) → activation. The HF parameter name of the GroupNorm is
/// <c>layer_norm</c>.
/// </summary>
public sealed class Wav2Vec2GroupNormConvLayer : nn.Module<Tensor, Tensor>
{
    private readonly Conv1d conv;
    private readonly GroupNorm layer_norm;
    private readonly Func<Tensor, Tensor> _activation;

    public Wav2Vec2GroupNormConvLayer(Wav2Vec2Config config, int layerId) : base(nameof(Wav2Vec2GroupNormConvLayer))
    {
        long inDim = layerId > 0 ? config.ConvDim[layerId - 1] : 1;
        long outDim = config.ConvDim[layerId];
        conv = ParamInit.Redraw(nn.Conv1d(inDim, outDim, config.ConvKernel[layerId], stride: config.ConvStride[layerId], bias: config.ConvBias));
        Wav2Vec2Init.Conv(conv, inDim, config.ConvKernel[layerId]);
        layer_norm = Wav2Vec2Init.GroupNorm(outDim, outDim, 1e-5);
        _activation = HfActivation.Get(config.FeatExtractActivation, "wav2vec2", "feat_extract_activation");
        RegisterComponents();
    }

    /// <summary>(B, C_in, L) → (B, C_out, L').</summary>
    public override Tensor forward(Tensor x) => _activation(layer_norm.call(conv.call(x)));
}
