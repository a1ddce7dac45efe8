using Distill.Schema;

namespace Distill.Data.Transfer;

/// <summary>
/// <c>distill.transfer</c>: a transfer set for distill stages (Hinton et al. 2015, section 3: the soft targets carry the
/// teacher's knowledge on any input, labelled or not). Two sources, either or both: the training examples beyond
/// <c>data.train_limit</c> (the same seeded shuffle, so never one of the labelled ones) with their labels dropped, and
/// augmented variants of the labelled examples (<see cref="AugmentSpec"/>). They join the distill stage's training set
/// unlabelled: every term reads the teacher on them, cross-entropy skips them. Other stages never see them.
/// </summary>
public sealed record TransferSpec
{
    /// <summary>How many examples of the training split beyond <c>data.train_limit</c> to add, unlabelled; 0 = none.</summary>
    [Bounds(0, int.MaxValue)] public int Unlabelled { get; init; }

    /// <summary>TinyBERT-style augmented variants of the labelled examples; null = none.</summary>
    public AugmentSpec? Augment { get; init; }
}
