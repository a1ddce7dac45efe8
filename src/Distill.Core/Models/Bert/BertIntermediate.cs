using Distill.Models.Hf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>
/// First half of the feed-forward block: act(dense(h)), D → intermediate_size, with <c>hidden_act</c> as HF's
/// <c>ACT2FN</c> computes it (<see cref="HfActivation"/>). Name: <c>dense</c>.
/// </summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly Func<Tensor, Tensor> _act;

    public BertIntermediate(BertConfig config) : base(nameof(BertIntermediate))
    {
        dense = ParamInit.Redraw(nn.Linear(config.HiddenSize, config.IntermediateSize));
        _act = HfActivation.Get(config.HiddenAct, "bert", "hidden_act");
        RegisterComponents();
    }

    /// <summary>(B, T, D) → (B, T, intermediate_size)</summary>
    public override Tensor forward(Tensor hidden) => _act(dense.call(hidden));
}
