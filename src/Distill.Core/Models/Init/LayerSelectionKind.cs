namespace Distill.Models.Init;

/// <summary>The forms of <see cref="LayerSelection"/>.</summary>
public enum LayerSelectionKind
{
    /// <summary>Every teacher layer, in order (<c>all</c>).</summary>
    All,

    /// <summary>Teacher layers 0, k, 2k, … (<c>every_k</c>; DistilBERT: <c>every_2</c>).</summary>
    Every,

    /// <summary>Teacher layers k−1, 2k−1, … (<c>skip:k</c>): the last layer of each block of k.</summary>
    Skip,

    /// <summary>An explicit list of teacher layer indices.</summary>
    List,

    /// <summary>n student layers spread over the teacher's: student layer i ← teacher layer ⌈(i + 1)·L/n⌉ − 1, the last
    /// of each of n near-equal blocks (= <see cref="Skip"/> with k = L/n when n divides L). No YAML form: the design stage
    /// uses it for candidates of any depth.</summary>
    Spread,
}
