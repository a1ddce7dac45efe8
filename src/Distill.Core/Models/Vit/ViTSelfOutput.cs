using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>Output projection of the attention block (Linear D→D, dropout). Unlike BERT, no residual or LayerNorm here: ViT is pre-norm and <see cref="ViTLayer"/> adds the residual. Path: <c>dense</c>.</summary>
public sealed class ViTSelfOutput : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly Dropout dropout;

    public ViTSelfOutput(ViTConfig config) : base("ViTSelfOutput")
    {
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden) => dropout.call(dense.call(hidden));
}
