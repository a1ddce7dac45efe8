using Distill.Schema;

namespace Distill.Models.Design;

/// <summary>
/// <c>search:</c> of a <c>design</c> stage: the values each architecture dimension of the student may take. A key
/// left out keeps the student config's own value. Which keys apply depends on the family (see
/// <see cref="DesignFamily.SearchKeys"/>): transformers (bert, vit, wav2vec2) use <c>layers</c>, <c>hidden_size</c>,
/// <c>heads</c>, <c>intermediate_size</c>; the cnn uses <c>layers</c> (conv blocks), <c>channels</c> (width of each
/// block; widths never decrease from one block to the next) and <c>hidden_size</c> (the fully connected layer).
/// Candidates are the Cartesian product minus the combinations the family forbids (hidden_size divisible by heads, ...).
/// </summary>
public sealed record SearchSpaceSpec
{
    public IntChoices? Layers { get; init; }

    public IntChoices? HiddenSize { get; init; }

    public IntChoices? Heads { get; init; }

    public IntChoices? IntermediateSize { get; init; }

    /// <summary>cnn only: widths each conv block may take.</summary>
    public IntChoices? Channels { get; init; }

    /// <summary>Transformers: smallest allowed head width hidden_size / heads (tiny heads are slow for what they hold).</summary>
    [Bounds(1, 4096)] public int MinHeadDim { get; init; } = 8;

    /// <summary>Refuse spaces larger than this (each candidate is built once on CPU to count its parameters).</summary>
    [Bounds(1, 1_000_000)] public int MaxCandidates { get; init; } = 5000;

    /// <summary>The search keys that were given, with their values.</summary>
    public IEnumerable<(string Key, IntChoices Values)> Given()
    {
        if (Layers is { } l) yield return ("layers", l);
        if (HiddenSize is { } h) yield return ("hidden_size", h);
        if (Heads is { } a) yield return ("heads", a);
        if (IntermediateSize is { } i) yield return ("intermediate_size", i);
        if (Channels is { } c) yield return ("channels", c);
    }
}
