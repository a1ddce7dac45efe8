using Distill.Models;
using Distill.Models.Pruning;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Pruning;

/// <summary>
/// Structured pruning that physically removes units: the model is rebuilt from a smaller config and the kept slices of
/// every tensor are copied in, so parameters, FLOPs and checkpoint size shrink and the result loads like any model of
/// its family. Which units a family has, the tensor slices each owns and the smaller config come from the family's
/// descriptor (<see cref="ModelFamily.Units"/>, a <see cref="PrunableUnits"/>): <c>mlp</c> hidden neurons, <c>cnn</c>
/// conv channels and head neurons, <c>bert</c>/<c>vit</c> FFN neurons and attention heads
/// (<see cref="TransformerEncoderUnits"/>). This class is the algorithm: scores, which units to keep, the rebuild.
/// Removing a unit equals zeroing what the next layer reads from it (<see cref="MaskConsumers"/>; for a head: its
/// output-projection columns, which removes its whole contribution to the residual stream), which the tests use to
/// check the rebuilt model.
/// </summary>
public static class StructuredPruning
{
    /// <summary>The prunable units of <paramref name="family"/> (null for a family structured pruning does not know).</summary>
    public static PrunableUnits? UnitsFor(string family, ModelRegistry? registry = null) =>
        (registry ?? ModelRegistry.Default).TryGet(family, out var f) ? f.Units : null;

    /// <summary>The kinds of unit <paramref name="family"/> has (empty for a family structured pruning does not know).</summary>
    public static IReadOnlyList<PruneUnit> UnitsOf(string family, ModelRegistry? registry = null) => UnitsFor(family, registry)?.Kinds ?? [];

    /// <summary>The kinds pruned when a recipe names none: every kind of the family except attention heads (so recipes
    /// written before head pruning keep their meaning).</summary>
    public static IReadOnlyList<PruneUnit> DefaultUnits(string family, ModelRegistry? registry = null) => UnitsFor(family, registry)?.DefaultKinds ?? [];

    /// <summary>
    /// The unit groups of a model of the given kinds (null = <see cref="DefaultUnits"/>), and whether the config forces
    /// one unit count for all its <see cref="PruneUnit.Ffn"/> groups (bert/vit: one <c>intermediate_size</c>).
    /// </summary>
    /// <exception cref="NotSupportedException">The family has no structured units, or not the asked kinds.</exception>
    public static (IReadOnlyList<UnitGroup> Groups, bool Uniform) Groups(DistillModel model, IReadOnlyCollection<PruneUnit>? units = null, ModelRegistry? registry = null)
    {
        var family = Require(model.Family, registry);
        var known = family.Kinds;
        units ??= family.DefaultKinds;
        var unknown = units.Where(u => !known.Contains(u)).ToList();
        if (unknown.Count > 0)
            throw new NotSupportedException(
                $"Structured pruning: a {model.Family} model has no {string.Join(", ", unknown.Select(Name))} units; its units are {string.Join(", ", known.Select(Name))}.");
        return (family.Groups(model).Where(g => units.Contains(g.Kind)).ToList(), family.UniformFfn);
    }

    /// <summary>The recipe spelling of a unit kind (<c>ffn</c>, <c>heads</c>, ...).</summary>
    public static string Name(PruneUnit unit) => PrunableUnits.Name(unit);

    private static PrunableUnits Require(string family, ModelRegistry? registry)
    {
        registry ??= ModelRegistry.Default;
        if (UnitsFor(family, registry) is { } units) return units;
        var supported = registry.Families.Where(f => f.Units is not null).Select(f => f.Key).ToList();
        throw new NotSupportedException($"Structured pruning does not know the units of the '{family}' family ({string.Join(", ", supported)} are supported).");
    }

    /// <summary>The config of the model with the units <paramref name="keep"/> lists (by group module path, current
    /// indices) left in each of <paramref name="groups"/>; groups without an entry keep all their units.</summary>
    public static IModelConfig ShrinkConfig(DistillModel model, IReadOnlyList<UnitGroup> groups, IReadOnlyDictionary<string, int[]> keep, ModelRegistry? registry = null) =>
        Require(model.Family, registry).Shrink(model.Config, groups, keep);

    /// <summary>L2 norm of each unit's weights: its incoming weights (the group's first producer), or over all of
    /// <see cref="UnitGroup.MagnitudeSlices"/> together (attention heads: the head's query, key and value rows and its
    /// output-projection columns).</summary>
    public static double[] MagnitudeScores(DistillModel model, UnitGroup group)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var state = model.state_dict();
        Tensor? sum = null;
        foreach (var slice in group.MagnitudeSlices ?? [group.Producers[0]])
        {
            var rows = state[slice.Name].detach().to(ScalarType.Float64).transpose(slice.Dim, 0).reshape(group.Count, -1);
            var squares = rows.pow(2).sum(1);
            sum = sum is null ? squares : sum + squares;
        }
        return sum!.sqrt().cpu().data<double>().ToArray();
    }

    /// <summary>
    /// First-order Taylor importance: for every batch, t_u = Σ g·w over the unit's producer parameters (or its
    /// <see cref="UnitGroup.TaylorSlices"/>) that have a gradient; the score is the mean of t_u² over the batches.
    /// t_u is the derivative of the loss with respect to a gate α_u scaling the unit (Molchanov et al. 2019). For an
    /// attention head the slices are its output-projection columns: with y = W·x, Σ_(cols of h) W ⊙ ∂L/∂W =
    /// Σ_(j ∈ h) x_j·∂L/∂x_j = ∂L/∂α_h for a gate on the head's context, the head importance of Michel et al. 2019
    /// ("Are Sixteen Heads Really Better than One?"). The model runs in eval mode (no dropout), so the scores are
    /// deterministic. Gradients left on the parameters are cleared.
    /// </summary>
    /// <param name="batches">Number of batches.</param>
    /// <param name="batch">Builds batch i (called inside that batch's dispose scope).</param>
    public static Dictionary<string, double[]> TaylorScores(DistillModel model, IReadOnlyList<UnitGroup> groups, int batches, Func<int, Batch> batch,
        Func<DistillModel, Batch, Tensor> loss)
    {
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var scores = groups.ToDictionary(g => g.Module, g => new double[g.Count]);
        int n = 0;
        model.eval();
        for (int i = 0; i < batches; i++)
        {
            using var scope = torch.NewDisposeScope();
            var data = batch(i);
            model.zero_grad();
            loss(model, data).backward();
            foreach (var g in groups)
            {
                Tensor? t = null;
                foreach (var slice in g.TaylorSlices ?? g.Producers)
                {
                    if (!parameters.TryGetValue(slice.Name, out var p) || p.grad is not { } grad) continue;
                    var gw = (grad * p.detach()).to(ScalarType.Float64).transpose(slice.Dim, 0).reshape(g.Count, -1).sum(1);
                    t = t is null ? gw : t + gw;
                }
                if (t is null) continue;
                var values = t.pow(2).cpu().data<double>().ToArray();
                var acc = scores[g.Module];
                for (int u = 0; u < acc.Length; u++) acc[u] += values[u];
            }
            n++;
        }
        model.zero_grad();
        if (n == 0) throw new ArgumentException("Taylor importance needs at least one batch.");
        foreach (var acc in scores.Values) for (int u = 0; u < acc.Length; u++) acc[u] /= n;
        return scores;
    }

    /// <summary>How many of a group's <paramref name="count"/> units <see cref="Keep"/> keeps: round((1 − sparsity)·count),
    /// halves away from zero, at least one (recipe validation predicts head counts with it).</summary>
    public static int KeptCount(int count, double sparsity) =>
        Math.Max(1, (int)Math.Round((1 - sparsity) * count, MidpointRounding.AwayFromZero));

    /// <summary>The units to keep in a group: the round((1 − sparsity)·count) best (at least one), in index order.</summary>
    public static int[] Keep(double[] scores, double sparsity)
    {
        int keep = KeptCount(scores.Length, sparsity);
        return Enumerable.Range(0, scores.Length).OrderByDescending(u => scores[u]).ThenBy(u => u).Take(keep).Order().ToArray();
    }

    /// <summary>The model rebuilt from the smaller config, holding the kept slices of every tensor (strictly checked).</summary>
    public static DistillModel Shrink(DistillModel model, IReadOnlyList<UnitGroup> groups, IReadOnlyDictionary<string, int[]> keep, ModelRegistry registry)
    {
        var config = ShrinkConfig(model, groups, keep, registry);
        var smaller = registry.Get(model.Family).Build(config);
        var target = smaller.state_dict();
        using var _ = torch.no_grad();
        foreach (var (name, tensor) in model.state_dict())
        {
            if (!target.TryGetValue(name, out var dst))
                throw new InvalidOperationException($"Structured pruning: the rebuilt {model.Family} model has no tensor '{name}'.");
            using var scope = torch.NewDisposeScope();
            var sliced = tensor.detach();
            foreach (var g in groups)
            {
                if (!keep.TryGetValue(g.Module, out var kept)) continue;
                foreach (var slice in g.Producers.Concat(g.Consumers).Where(s => s.Name == name))
                    sliced = sliced.index_select(slice.Dim, Indices(kept, slice.Block, sliced.device));
            }
            if (!dst.shape.SequenceEqual(sliced.shape))
                throw new InvalidOperationException(
                    $"Structured pruning: '{name}' sliced to [{string.Join(", ", sliced.shape)}] but the rebuilt model expects [{string.Join(", ", dst.shape)}].");
            dst.copy_(sliced);
        }
        return smaller;
    }

    /// <summary>Zeroes, in place, what the next layers read from the units not in <paramref name="keep"/>: the masked
    /// model whose outputs the shrunk model reproduces.</summary>
    public static void MaskConsumers(DistillModel model, IReadOnlyList<UnitGroup> groups, IReadOnlyDictionary<string, int[]> keep)
    {
        var tensors = model.state_dict();
        using var _ = torch.no_grad();
        foreach (var g in groups)
        {
            if (!keep.TryGetValue(g.Module, out var kept)) continue;
            var removed = Enumerable.Range(0, g.Count).Except(kept).ToArray();
            if (removed.Length == 0) continue;
            foreach (var slice in g.Consumers)
            {
                using var scope = torch.NewDisposeScope();
                var t = tensors[slice.Name];
                t.index_fill_(slice.Dim, Indices(removed, slice.Block, t.device), 0);
            }
        }
    }

    private static Tensor Indices(int[] units, int block, Device device)
    {
        var idx = new long[units.Length * block];
        for (int i = 0; i < units.Length; i++)
            for (int j = 0; j < block; j++) idx[i * block + j] = (long)units[i] * block + j;
        return torch.tensor(idx, device: device);
    }
}
