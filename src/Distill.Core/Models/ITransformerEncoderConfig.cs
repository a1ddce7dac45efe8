namespace Distill.Models;

/// <summary>
/// The sizes of an encoder-only transformer's config (bert, vit, wav2vec2), which structured pruning, teacher
/// initialisation, the design space and the recipe checks read and change without knowing the family: L encoder layers
/// of width H, A attention heads of <see cref="HeadDim"/> = H / A each (minus the heads HF's <c>pruned_heads</c>
/// removed, see <see cref="HeadPruning"/>), and a feed-forward width I shared by every layer.
/// </summary>
public interface ITransformerEncoderConfig : IModelConfig
{
    /// <summary>Encoder layers L (<c>num_hidden_layers</c>).</summary>
    int NumHiddenLayers { get; }

    /// <summary>Model width H (<c>hidden_size</c>).</summary>
    int HiddenSize { get; }

    /// <summary>Attention heads per layer before pruning A (<c>num_attention_heads</c>).</summary>
    int NumAttentionHeads { get; }

    /// <summary>Feed-forward width I (<c>intermediate_size</c>), the same in every layer.</summary>
    int IntermediateSize { get; }

    /// <summary>Width of one attention head: H / A.</summary>
    int HeadDim { get; }

    /// <summary>True when the config can record removed heads (HF's config class has <c>pruned_heads</c>: bert, vit);
    /// false for wav2vec2, whose heads cannot be removed.</summary>
    bool CanPruneHeads { get; }

    /// <summary>HF's <c>pruned_heads</c> (original head indices removed per layer); null = none.</summary>
    Dictionary<string, List<int>>? PrunedHeads { get; }

    /// <summary>Attention heads left in encoder layer <paramref name="layer"/>.</summary>
    int HeadsInLayer(int layer);

    /// <summary>The config with these sizes and these removed heads (everything else kept).</summary>
    /// <exception cref="NotSupportedException">Heads are removed from a family that cannot record it (<see cref="CanPruneHeads"/>).</exception>
    ITransformerEncoderConfig WithEncoder(int layers, int hiddenSize, int heads, int intermediateSize, Dictionary<string, List<int>>? prunedHeads);
}
