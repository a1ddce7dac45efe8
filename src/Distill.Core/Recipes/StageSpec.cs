using Distill.Schema;

namespace Distill.Recipes;

/// <summary>One stage of a run. <c>kind</c> selects what it does (see <see cref="StageSpecRegistry"/>).</summary>
[Polymorphic("kind", typeof(StageResolver))]
public abstract record StageSpec
{
    [RequiredKey] public string Kind { get; init; } = "";

    /// <summary>Stage name in the summary, the table and TensorBoard; defaults to the kind. Unique within a recipe.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Training settings for this stage: the recipe's top-level <c>train</c> with this mapping's keys laid over it
    /// (the loader merges them before binding, so every key keeps its own line and column).
    /// </summary>
    public TrainSpec? Train { get; init; }

    public string DisplayName => Name ?? Kind;
}
