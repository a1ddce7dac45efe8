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
}
