using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>The stack of <see cref="ViTLayer"/>s. Path: <c>layer.{i}</c>. Collects HF's <c>hidden_states</c> (input first) and, when asked, the attention probabilities.</summary>
public sealed class ViTEncoder : nn.Module<Tensor, bool, ViTEncoderOutput>
{
    private readonly ModuleList<ViTLayer> layer;

    public ViTEncoder(ViTConfig config) : base("ViTEncoder")
    {
        layer = new ModuleList<ViTLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++) layer.Add(new ViTLayer(config, i));
        RegisterComponents();
    }

    /// <summary>The layers, in order.</summary>
    public IReadOnlyList<ViTLayer> Layers => [.. layer];

    public override ViTEncoderOutput forward(Tensor hidden, bool outputAttentions)
    {
        var hiddenStates = new List<Tensor>(layer.Count + 1) { hidden };
        var attentions = new List<Tensor>(outputAttentions ? layer.Count : 0);
        foreach (var block in layer)
        {
            var (next, probs) = block.call(hidden);
            hidden = next;
            hiddenStates.Add(hidden);
            if (outputAttentions) attentions.Add(probs);
        }
        return new ViTEncoderOutput(hidden, hiddenStates, attentions);
    }
}
