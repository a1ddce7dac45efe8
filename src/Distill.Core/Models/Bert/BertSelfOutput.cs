using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>Attention output projection with post-norm residual: LayerNorm(dropout(dense(h)) + input). <c>dense</c> reads
/// the layer's heads·head_dim context features (fewer than D when heads are pruned). Names: <c>dense</c>, <c>LayerNorm</c>.</summary>
public sealed class BertSelfOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dense;
#pragma warning disable IDE1006 // HF's parameter name
    private readonly LayerNorm LayerNorm;
#pragma warning restore IDE1006
    private readonly SeededDropout dropout;

    /// <param name="config">The model's config.</param>
    /// <param name="layer">Index of the encoder layer (selects its pruned heads).</param>
    public BertSelfOutput(BertConfig config, int layer) : base(nameof(BertSelfOutput))
    {
        dense = ParamInit.Redraw(nn.Linear(config.HeadsInLayer(layer) * config.HeadDim, config.HiddenSize));
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = new SeededDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <param name="hidden">Attention context (B, T, heads·head_dim).</param>
    /// <param name="input">The attention block's input (B, T, D), the residual.</param>
    public override Tensor forward(Tensor hidden, Tensor input) =>
        LayerNorm.call(dropout.call(dense.call(hidden)) + input);
}
