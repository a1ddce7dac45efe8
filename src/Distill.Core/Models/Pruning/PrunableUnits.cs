using System.Text.Json;

namespace Distill.Models.Pruning;

/// <summary>
/// What structured pruning can remove from a family's models (<see cref="ModelFamily.Units"/>): the kinds of unit, the
/// unit groups of a model (each unit with the tensor slices that belong to it) and the smaller config a model with
/// fewer units has. The pruning algorithm (scores, keeping, rebuilding) is in <c>Compression/Pruning/StructuredPruning</c>
/// and asks the family for these.
/// </summary>
public abstract class PrunableUnits
{
    /// <summary>The kinds of unit the family's models have.</summary>
    public abstract IReadOnlyList<PruneUnit> Kinds { get; }

    /// <summary>The kinds pruned when a recipe names none: every kind except attention heads (so recipes written before
    /// head pruning keep their meaning).</summary>
    public IReadOnlyList<PruneUnit> DefaultKinds => Kinds.Where(u => u != PruneUnit.Heads).ToList();

    /// <summary>True when the config has one unit count for all <see cref="PruneUnit.Ffn"/> groups (one
    /// <c>intermediate_size</c>), so every layer keeps the same number of them.</summary>
    public virtual bool UniformFfn => false;

    /// <summary>Every unit group of <paramref name="model"/>, of all <see cref="Kinds"/>.</summary>
    public abstract IReadOnlyList<UnitGroup> Groups(DistillModel model);

    /// <summary>The config of a model that keeps, of each group in <paramref name="groups"/> listed in
    /// <paramref name="keep"/> (by module path), the units at those current indices; other groups keep all their units.</summary>
    public abstract IModelConfig Shrink(IModelConfig config, IReadOnlyList<UnitGroup> groups, IReadOnlyDictionary<string, int[]> keep);

    /// <summary>The module path of encoder layer <paramref name="layer"/>'s attention-head group (what include/exclude
    /// patterns match); null for a family without head units.</summary>
    public virtual string? HeadModule(int layer) => null;

    /// <summary>The recipe spelling of a unit kind (<c>ffn</c>, <c>heads</c>, ...).</summary>
    public static string Name(PruneUnit unit) => JsonNamingPolicy.SnakeCaseLower.ConvertName(unit.ToString());
}
