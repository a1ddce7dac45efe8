using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>Second half of the feed-forward block: Linear intermediate_size→D, dropout, plus the residual. Path: <c>dense</c>.</summary>
public sealed class ViTOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly SeededDropout dropout;

    public ViTOutput(ViTConfig config) : base("ViTOutput")
    {
        dense = ParamInit.Redraw(nn.Linear(config.IntermediateSize, config.HiddenSize));
        dropout = new SeededDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <param name="hidden">The intermediate activations (B, T, intermediate_size).</param>
    /// <param name="residual">The block's input (B, T, D), added back.</param>
    public override Tensor forward(Tensor hidden, Tensor residual) => dropout.call(dense.call(hidden)) + residual;
}
