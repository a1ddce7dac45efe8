using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>Output projection of the attention block (Linear heads·head_dim → D, dropout; heads·head_dim = D unless heads are pruned). Unlike BERT, no residual or LayerNorm here: ViT is pre-norm and <see cref="ViTLayer"/> adds the residual. Path: <c>dense</c>.</summary>
public sealed class ViTSelfOutput : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly SeededDropout dropout;

    /// <param name="config">The model's config.</param>
    /// <param name="layer">Index of the encoder layer (selects its pruned heads).</param>
    public ViTSelfOutput(ViTConfig config, int layer) : base("ViTSelfOutput")
    {
        dense = ParamInit.Redraw(nn.Linear(config.HeadsInLayer(layer) * config.HeadDim, config.HiddenSize));
        dropout = new SeededDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden) => dropout.call(dense.call(hidden));
}
