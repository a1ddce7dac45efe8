using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>HF's pooler: tanh(Linear(h_CLS)) on the final-layernormed CLS token, (B, T, D) → (B, D). Path: <c>dense</c>.</summary>
public sealed class ViTPooler : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;

    public ViTPooler(ViTConfig config) : base("ViTPooler")
    {
        dense = ParamInit.Redraw(nn.Linear(config.HiddenSize, config.HiddenSize));
        RegisterComponents();
    }

    public override Tensor forward(Tensor sequence) => torch.tanh(dense.call(sequence.select(1, 0))); // (B, D)
}
