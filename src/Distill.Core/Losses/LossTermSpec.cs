using Distill.Schema;

namespace Distill.Losses;

/// <summary>One named, weighted term of the distillation loss. <c>kind</c> selects the loss (see <c>LossRegistry</c>).</summary>
[Polymorphic("kind", typeof(LossTermResolver))]
public abstract record LossTermSpec
{
    [RequiredKey] public string Kind { get; init; } = "";

    /// <summary>Name under which the term is logged (<c>loss/&lt;name&gt;</c>); defaults to the kind. Unique within a recipe.</summary>
    public string? Name { get; init; }

    /// <summary>Multiplier of the term in the total loss.</summary>
    [Bounds(0, 1e6)] public double Weight { get; init; } = 1.0;

    public string DisplayName => Name ?? Kind;
}
