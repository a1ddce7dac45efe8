using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// Base class of every model Distill can train, distill or compress. Submodules are registered under the
/// same names as HuggingFace's so that state-dict keys match checkpoints without a mapping table.
/// Implementations call their submodules through <c>.call(...)</c> so forward hooks (feature taps) fire.
/// </summary>
public abstract class DistillModel : nn.Module<Batch, ModelOutput>
{
    protected DistillModel(string name) : base(name) { }

    /// <summary>Registry key of the model family ("mlp", "cnn", "vit_tiny", "bert", ...).</summary>
    public abstract string Family { get; }

    /// <summary>Number of layers whose outputs follow the embedding entry in <see cref="ModelOutput.HiddenStates"/>.</summary>
    public abstract int NumHiddenLayers { get; }

    /// <summary>Number of output classes (width of the logits).</summary>
    public abstract int NumLabels { get; }

    /// <summary>The configuration this model was built from (a config record of the family); serialised into checkpoints.</summary>
    public abstract IModelConfig Config { get; }

    /// <summary>When true, forward fills <see cref="ModelOutput.Attentions"/>. Off by default: the probabilities cost memory.</summary>
    public bool OutputAttentions { get; set; }

    /// <summary>
    /// Hands <paramref name="generator"/> to every <see cref="IStochasticModule"/> of the model (dropout, LayerDrop,
    /// SpecAugment); null returns them to torch's global generator.
    /// </summary>
    public void UseGenerator(Generator? generator)
    {
        foreach (var module in modules())
            if (module is IStochasticModule stochastic) stochastic.Generator = generator;
    }

    /// <summary>Parameter count (all parameters, trainable or not).</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>Bytes of the dense weights at their current dtype.</summary>
    public long ParameterBytes() => parameters().Sum(p => p.numel() * p.element_size());
}
