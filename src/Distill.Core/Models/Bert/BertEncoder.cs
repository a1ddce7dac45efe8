using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>
/// The stack of <see cref="BertLayer"/>s, children <c>layer.0</c>, <c>layer.1</c>, ... Returns the last layer's output,
/// the hidden states (index 0 = the encoder input, i.e. the embedding output, then one per layer, as HF's
/// <c>hidden_states</c>) and, when <see cref="OutputAttentions"/> is set, each layer's attention probabilities.
/// </summary>
public sealed class BertEncoder : nn.Module<Tensor, Tensor?, (Tensor Last, IReadOnlyList<Tensor> HiddenStates, IReadOnlyList<Tensor> Attentions)>
{
    private readonly ModuleList<BertLayer> layer;

    public BertEncoder(BertConfig config) : base(nameof(BertEncoder))
    {
        layer = new ModuleList<BertLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++) layer.Add(new BertLayer(config, i));
        RegisterComponents();
    }

    /// <summary>Keep each layer's attention probabilities (B, heads, T, T); heads may differ per layer (pruned_heads).</summary>
    public bool OutputAttentions { get; set; }

    public override (Tensor Last, IReadOnlyList<Tensor> HiddenStates, IReadOnlyList<Tensor> Attentions) forward(Tensor hidden, Tensor? extendedMask)
    {
        var hiddenStates = new List<Tensor>(layer.Count + 1) { hidden };
        var attentions = new List<Tensor>();
        foreach (var l in layer)
        {
            var (next, probs) = l.call(hidden, extendedMask);
            hidden = next;
            hiddenStates.Add(hidden);
            if (OutputAttentions) attentions.Add(probs);
        }
        return (hidden, hiddenStates, attentions);
    }
}
