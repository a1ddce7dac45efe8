using Distill.Losses;

namespace Distill.Caching;

/// <summary>
/// The teacher outputs a set of loss terms reads: always the logits, plus tapped module outputs, hidden states (index 0 =
/// embedding output) and attention maps (index 0 = layer 1). Used by the cache (what to store) and by the distillation
/// objective (what to keep after the teacher's forward pass, so the rest of its activations can be freed at once).
/// </summary>
public sealed record TeacherNeeds(IReadOnlyList<string> Taps, IReadOnlyList<int> HiddenLayers, IReadOnlyList<int> AttentionLayers)
{
    /// <summary>The union of what <paramref name="terms"/> declare they read (<see cref="ILossTerm.TeacherReads"/>), sorted.</summary>
    public static TeacherNeeds From(IEnumerable<ILossTerm> terms)
    {
        var taps = new SortedSet<string>(StringComparer.Ordinal);
        var hidden = new SortedSet<int>();
        var attentions = new SortedSet<int>();
        var padded = new List<string>();
        foreach (var term in terms)
        {
            var reads = term.TeacherReads;
            if (reads.ReadsPaddedTokens && (reads.HiddenStates.Count > 0 || reads.Attentions.Count > 0)) padded.Add(term.Name);
            taps.UnionWith(reads.Taps);
            hidden.UnionWith(reads.HiddenStates);
            attentions.UnionWith(reads.Attentions);
        }
        return new TeacherNeeds([.. taps], [.. hidden], [.. attentions]) { PaddedTokenReaders = padded };
    }

    /// <summary>
    /// Names of the terms that compare teacher hidden states or attention maps at padded token positions
    /// (<see cref="TeacherReads.ReadsPaddedTokens"/>): a cache that stores only the real tokens of text cannot serve them.
    /// </summary>
    public IReadOnlyList<string> PaddedTokenReaders { get; init; } = [];

    /// <summary>A stable one-line description (part of the cache layout hash and of messages).</summary>
    public override string ToString() =>
        $"logits; taps [{string.Join(", ", Taps)}]; hidden [{string.Join(", ", HiddenLayers)}]; attentions [{string.Join(", ", AttentionLayers)}]";
}
