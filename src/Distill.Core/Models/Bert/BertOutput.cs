using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>
/// Second half of the feed-forward block with post-norm residual: LayerNorm(dropout(dense(h)) + input),
/// intermediate_size → D. (HF's module of this name; the model's output record is <see cref="BertModelOutput"/>.)
/// Names: <c>dense</c>, <c>LayerNorm</c>.
/// </summary>
public sealed class BertOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dense;
#pragma warning disable IDE1006 // HF's parameter name
    private readonly LayerNorm LayerNorm;
#pragma warning restore IDE1006
    private readonly SeededDropout dropout;

    public BertOutput(BertConfig config) : base(nameof(BertOutput))
    {
        dense = ParamInit.Redraw(nn.Linear(config.IntermediateSize, config.HiddenSize));
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = new SeededDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, intermediate_size)</param>
    /// <param name="input">The feed-forward block's input (B, T, D), the residual.</param>
    public override Tensor forward(Tensor hidden, Tensor input) =>
        LayerNorm.call(dropout.call(dense.call(hidden)) + input);
}
