using Distill.Schema;

namespace Distill.Recipes;

/// <summary>
/// <c>schedule:</c> of a <c>prune</c> stage — gradual magnitude pruning with the cubic schedule of Zhu &amp; Gupta 2017
/// (see <see cref="Compression.Pruning.CubicSparsitySchedule"/>). Steps count the stage's own optimizer steps.
/// </summary>
public sealed record PruneStageSchedule
{
    /// <summary>Step at which the first masks (at <c>initial_sparsity</c>) are computed.</summary>
    [Bounds(0, int.MaxValue)] public int StartStep { get; init; }

    /// <summary>Step at which the stage's <c>sparsity</c> is reached; the masks stay fixed afterwards.</summary>
    [RequiredKey, Bounds(1, int.MaxValue)] public int EndStep { get; init; }

    /// <summary>Steps between mask updates (Δt).</summary>
    [Bounds(1, int.MaxValue)] public int Frequency { get; init; } = 100;

    /// <summary>Sparsity of the first masks (s_i).</summary>
    [Bounds(0, 1)] public double InitialSparsity { get; init; }
}
