using Distill.Schema;

namespace Distill.Data.Transfer;

/// <summary>
/// <c>distill.transfer.augment</c>: TinyBERT's data augmentation (Jiao et al. 2020, section 3.1 and algorithm 1) with
/// the teacher's own word embeddings in place of GloVe: each labelled example gets <see cref="Copies"/> unlabelled
/// variants in which every whole word is, with probability <see cref="Probability"/>, replaced by one of its
/// <see cref="Neighbours"/> nearest words (cosine similarity of the teacher's word-embedding rows). The variants are a
/// fixed function of the seed and the example, so the teacher cache can store them.
/// </summary>
public sealed record AugmentSpec
{
    /// <summary>Augmented variants per labelled example (TinyBERT: 20).</summary>
    [Bounds(1, 1000)] public int Copies { get; init; } = 4;

    /// <summary>Chance that each whole word of a variant is replaced (TinyBERT's p_t: 0.4).</summary>
    [Bounds(0, 1, ExclusiveMinimum = true)] public double Probability { get; init; } = 0.4;

    /// <summary>Candidate replacements per word: its nearest words in the embedding table (TinyBERT's K: 15).</summary>
    [Bounds(1, 1000)] public int Neighbours { get; init; } = 15;
}
