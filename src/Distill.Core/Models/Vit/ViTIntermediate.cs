using TorchSharp;
using Distill.Models.Hf;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>First half of the feed-forward block: Linear D→intermediate_size, then <c>hidden_act</c>. Path: <c>dense</c>.</summary>
public sealed class ViTIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly Func<Tensor, Tensor> _activation;

    public ViTIntermediate(ViTConfig config) : base("ViTIntermediate")
    {
        _activation = HfActivation.Get(config.HiddenAct, "vit", "hidden_act");
        dense = ParamInit.Redraw(nn.Linear(config.HiddenSize, config.IntermediateSize));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden) => _activation(dense.call(hidden)); // (B, T, intermediate_size)
}
