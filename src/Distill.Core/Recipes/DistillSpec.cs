using Distill.Losses;

namespace Distill.Recipes;

/// <summary>The distillation objective: a weighted sum of named loss terms.</summary>
public sealed record DistillSpec
{
    public List<LossTermSpec> Terms { get; init; } = [];

    /// <summary>Teacher-output cache: run the teacher once, memory-map its outputs afterwards; null = run the teacher every step.</summary>
    public Caching.TeacherCacheSpec? Cache { get; init; }

    /// <summary>Unlabelled transfer set added to distill stages' training data; null = the labelled training set only.</summary>
    public Data.Transfer.TransferSpec? Transfer { get; init; }
}
