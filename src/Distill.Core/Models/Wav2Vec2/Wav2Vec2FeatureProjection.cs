using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// LayerNorm over the conv features (eps = layer_norm_eps), then a Linear to hidden_size and dropout
/// (feat_proj_dropout). Returns both the projected states and the normed features, which HF exposes as
/// <c>extract_features</c>. Fresh init follows HF: projection weight and bias ~ U(±1/√in).
/// </summary>
public sealed class Wav2Vec2FeatureProjection : nn.Module<Tensor, (Tensor Hidden, Tensor ExtractFeatures)>
{
    private readonly LayerNorm layer_norm;
    private readonly Linear projection;
    private readonly SeededDropout dropout;

    public Wav2Vec2FeatureProjection(Wav2Vec2Config config) : base(nameof(Wav2Vec2FeatureProjection))
    {
        long inDim = config.ConvDim[^1];
        layer_norm = Wav2Vec2Init.LayerNorm(inDim, config.LayerNormEps);
        projection = ParamInit.Redraw(nn.Linear(inDim, config.HiddenSize));
        dropout = new SeededDropout(config.FeatProjDropout);
        using (torch.no_grad())
        {
            double k = Math.Sqrt(1.0 / inDim);
            ParamInit.Uniform_(projection.weight, -k, k);
            ParamInit.Uniform_(projection.bias!, -k, k);
        }
        RegisterComponents();
    }

    /// <summary>(B, T, C) → ((B, T, D) projected, (B, T, C) normed).</summary>
    public override (Tensor Hidden, Tensor ExtractFeatures) forward(Tensor features)
    {
        var normed = layer_norm.call(features);
        var hidden = dropout.call(projection.call(normed));
        return (hidden, normed);
    }
}
