using Distill.Schema;

namespace Distill.Data.Transfer;

/// <summary>
/// <c>distill.transfer</c>: an unlabelled transfer set for distill stages (Hinton et al. 2015, section 3: the soft
/// targets carry the teacher's knowledge on any input, labelled or not). The training examples beyond
/// <c>data.train_limit</c> (the same seeded shuffle, so never one of the labelled ones) join the distill stage's
/// training set with their labels dropped: every term reads the teacher on them, cross-entropy skips them.
/// </summary>
public sealed record TransferSpec
{
    /// <summary>How many examples of the training split beyond <c>data.train_limit</c> to add, unlabelled.</summary>
    [RequiredKey, Bounds(1, int.MaxValue)] public int Unlabelled { get; init; }
}
