using System.Globalization;
using System.Text.RegularExpressions;

namespace Distill.Models.Init;

/// <summary>
/// How a family's state-dict keys are laid out, as far as initialising one model from another of the family needs
/// (<see cref="TeacherInit"/>): which keys belong to the numbered layer list that a layer map renumbers, and which tensor
/// dimensions are laid out as (heads × head_dim), so a narrower student keeps the first features of each head rather
/// than the first heads' worth of features. A family's descriptor returns it as <see cref="ModelFamily.InitLayout"/>.
/// </summary>
/// <param name="LayerKey">Matches a key of the layer list; group <c>i</c> is the layer index.</param>
public sealed record WeightLayout(Regex LayerKey)
{
    /// <summary>Encoder-layer keys of HF transformers: <c>…encoder.layer.N.…</c> (BERT, ViT) or <c>…encoder.layers.N.…</c> (wav2vec2).</summary>
    public static Regex EncoderLayers { get; } = new(@"(^|\.)encoder\.layers?\.(?<i>[0-9]+)\.", RegexOptions.CultureInvariant);

    /// <summary>Keys whose dimension 0 is (heads × head_dim): the query/key/value projections' weights and biases.</summary>
    public Regex? HeadRows { get; init; }

    /// <summary>Keys whose dimension 1 is (heads × head_dim): the attention output projection's weight.</summary>
    public Regex? HeadColumns { get; init; }

    /// <summary>True when dimension <paramref name="dim"/> of tensor <paramref name="key"/> is (heads × head_dim).</summary>
    public bool IsHeadDim(string key, int dim) =>
        (dim == 0 && HeadRows?.IsMatch(key) == true) || (dim == 1 && HeadColumns?.IsMatch(key) == true);

    /// <summary>The layer index of a key of the layer list; null for other keys.</summary>
    public int? LayerOf(string key) => LayerKey.Match(key) is { Success: true } m
        ? int.Parse(m.Groups["i"].Value, CultureInfo.InvariantCulture)
        : null;

    /// <summary>The number of layers of a state dict: the highest layer index + 1 (0 when no key is in the list).</summary>
    public int Depth(IEnumerable<string> keys) => keys.Select(LayerOf).Max() is { } last ? last + 1 : 0;
}
