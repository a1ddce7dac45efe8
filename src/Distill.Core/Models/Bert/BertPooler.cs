using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>Sentence representation used by the classification head: tanh(dense(h[:, 0])), the first ([CLS]) token. Name: <c>dense</c>.</summary>
public sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;

    public BertPooler(BertConfig config) : base(nameof(BertPooler))
    {
        dense = ParamInit.Redraw(nn.Linear(config.HiddenSize, config.HiddenSize));
        RegisterComponents();
    }

    /// <summary>(B, T, D) → (B, D)</summary>
    public override Tensor forward(Tensor hidden) => torch.tanh(dense.call(hidden.select(1, 0)));
}
