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

    /// <param name="config">The model's config.</param>
    /// <param name="index">Index of this layer in the encoder (selects its pruned heads).</param>
    public BertLayer(BertConfig config, int index) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config, index);
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
