namespace Distill.Losses;

/// <summary>
/// What one loss term reads from the teacher besides its logits (always kept: every output has them, and they are
/// small): tapped module outputs, hidden-state indices (0 = embedding output) and attention-map indices (0 = layer 1),
/// as indices into <see cref="Distill.Models.ModelOutput"/>. The teacher cache stores, and the distillation objective
/// keeps after the teacher's forward pass, exactly the union of these declarations, so a term must list every output it
/// reads.
/// </summary>
public sealed class TeacherReads
{
    /// <param name="readsPaddedTokens">
    /// Whether the term compares the teacher's values at padded token positions; by default true when it reads hidden
    /// states or attention maps (the safe answer: a cache that stores only the real tokens then refuses it).
    /// </param>
    public TeacherReads(IEnumerable<string>? taps = null, IEnumerable<int>? hiddenStates = null, IEnumerable<int>? attentions = null,
        bool? readsPaddedTokens = null)
    {
        Taps = [.. taps ?? []];
        HiddenStates = [.. hiddenStates ?? []];
        Attentions = [.. attentions ?? []];
        ReadsPaddedTokens = readsPaddedTokens ?? (HiddenStates.Count > 0 || Attentions.Count > 0);
        if (HiddenStates.Any(i => i < 0)) throw new ArgumentOutOfRangeException(nameof(hiddenStates), "Hidden-state indices cannot be negative.");
        if (Attentions.Any(i => i < 0)) throw new ArgumentOutOfRangeException(nameof(attentions), "Attention-map indices cannot be negative.");
    }

    /// <summary>Only the logits.</summary>
    public static TeacherReads LogitsOnly { get; } = new();

    /// <summary>Teacher module paths whose outputs the term reads (tapped by forward hooks).</summary>
    public IReadOnlyList<string> Taps { get; }

    /// <summary>Indices into <see cref="Distill.Models.ModelOutput.HiddenStates"/>.</summary>
    public IReadOnlyList<int> HiddenStates { get; }

    /// <summary>Indices into <see cref="Distill.Models.ModelOutput.Attentions"/> (layer l's map is index l − 1).</summary>
    public IReadOnlyList<int> Attentions { get; }

    /// <summary>
    /// True when the term's value depends on the teacher's hidden states or attention maps at padded token positions
    /// (an unmasked MSE over (B, T, D)). A term that masks padded query rows and tokens reads only real tokens: the
    /// teacher cache may then store text outputs for the real tokens alone, which is what lets batches padded to
    /// different lengths share one cache.
    /// </summary>
    public bool ReadsPaddedTokens { get; }
}
