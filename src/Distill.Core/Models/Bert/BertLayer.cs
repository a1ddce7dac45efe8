using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>One post-norm transformer encoder layer: attention block, then feed-forward block
/// (<c>attention</c>, <c>intermediate</c>, <c>output</c>). Returns the layer output (B, T, D) and the attention probabilities.</summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor?, (Tensor Hidden, Tensor Probs)>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertOutput output;

    public BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertOutput(config);
        RegisterComponents();
    }

    public override (Tensor Hidden, Tensor Probs) forward(Tensor hidden, Tensor? extendedMask)
    {
        var (attended, probs) = attention.call(hidden, extendedMask);
        return (output.call(intermediate.call(attended), attended), probs);
    }
}
