using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>
/// Self-attention followed by its output projection and residual LayerNorm. HF names the two children
/// <c>self</c> and <c>output</c>, so keys read <c>attention.self.query.weight</c>, <c>attention.output.dense.weight</c>.
/// </summary>
public sealed class BertAttention : nn.Module<Tensor, Tensor?, (Tensor Hidden, Tensor Probs)>
{
    // "self" is a C# keyword: the verbatim identifier's metadata name is "self", which RegisterComponents uses.
    private readonly BertSelfAttention @self;
    private readonly BertSelfOutput output;

    /// <param name="config">The model's config.</param>
    /// <param name="layer">Index of the encoder layer (selects its pruned heads).</param>
    public BertAttention(BertConfig config, int layer) : base(nameof(BertAttention))
    {
        @self = new BertSelfAttention(config, layer);
        output = new BertSelfOutput(config, layer);
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, D)</param>
    /// <param name="extendedMask">Additive mask (B, 1, 1, T) or null.</param>
    public override (Tensor Hidden, Tensor Probs) forward(Tensor hidden, Tensor? extendedMask)
    {
        var (context, probs) = @self.call(hidden, extendedMask);
        return (output.call(context, hidden), probs);
    }
}
