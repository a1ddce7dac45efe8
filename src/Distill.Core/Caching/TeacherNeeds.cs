using Distill.Losses;

namespace Distill.Caching;

/// <summary>
/// The teacher outputs a set of loss terms reads: always the logits, plus tapped module outputs, hidden states (index 0 =
/// embedding output) and attention maps (index 0 = layer 1). Used by the cache (what to store) and by the distillation
/// objective (what to keep after the teacher's forward pass, so the rest of its activations can be freed at once).
/// </summary>
public sealed record TeacherNeeds(IReadOnlyList<string> Taps, IReadOnlyList<int> HiddenLayers, IReadOnlyList<int> AttentionLayers)
{
    /// <summary>What <paramref name="terms"/> read from the teacher; null when a term's kind is not known here (then nothing can be dropped or cached).</summary>
    public static TeacherNeeds? From(IEnumerable<ILossTerm> terms)
    {
        var taps = new SortedSet<string>(StringComparer.Ordinal);
        var hidden = new SortedSet<int>();
        var attentions = new SortedSet<int>();
        foreach (var term in terms)
        {
            foreach (var t in term.TeacherTaps) taps.Add(t);
            switch (term)
            {
                case SoftTargetLoss:
                case HintLoss:
                    break;
                case HiddenStateMseLoss h:
                    foreach (var (_, t) in h.Pairs) hidden.Add(t);
                    break;
                case CosineEmbeddingLoss c:
                    foreach (var (_, t) in c.Pairs) hidden.Add(t);
                    break;
                case AttentionMapLoss a:
                    foreach (var (_, t) in a.Pairs) attentions.Add(t - 1); // layer t's map is Attentions[t - 1]
                    break;
                default:
                    return null;
            }
        }
        return new TeacherNeeds([.. taps], [.. hidden], [.. attentions]);
    }

    /// <summary>A stable one-line description (part of the cache layout hash and of messages).</summary>
    public override string ToString() =>
        $"logits; taps [{string.Join(", ", Taps)}]; hidden [{string.Join(", ", HiddenLayers)}]; attentions [{string.Join(", ", AttentionLayers)}]";
}
