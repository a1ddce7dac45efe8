using System.Text.RegularExpressions;
using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Cnn;
using Distill.Models.Mlp;
using Distill.Models.Vit;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Pruning;

/// <summary>
/// Structured pruning that physically removes units: the model is rebuilt from a smaller config and the kept slices of
/// every tensor are copied in, so parameters, FLOPs and checkpoint size shrink and the result loads like any model of
/// its family. Units per family (<see cref="PruneUnit"/>): <c>mlp</c> hidden neurons (<c>hidden_sizes</c>, per layer);
/// <c>cnn</c> conv channels (<c>channels</c>, per block, with their BatchNorm entries and the head columns they feed)
/// and the head's hidden neurons (<c>hidden_size</c>); <c>bert</c>/<c>vit</c> feed-forward neurons
/// (<c>intermediate_size</c> — one value for all layers, so every layer keeps the same number, each its own best ones)
/// and attention heads (HF's <c>pruned_heads</c>, see <see cref="HeadPruning"/>: per layer, so layers may keep
/// different numbers). A head h of a layer owns rows h·d..(h+1)·d (d = head_dim) of query/key/value (weight and bias)
/// and the same columns of <c>attention.output.dense.weight</c>; the rebuilt config lists the removed heads by their
/// ORIGINAL index, merged with those an earlier round removed, exactly as HF's <c>prune_heads</c> records them, so the
/// exported folder loads in transformers.
/// Removing a unit equals zeroing what the next layer reads from it (<see cref="MaskConsumers"/>; for a head: its
/// output-projection columns, which removes its whole contribution to the residual stream), which the tests use to
/// check the rebuilt model.
/// </summary>
public static partial class StructuredPruning
{
    /// <summary>The kinds of unit <paramref name="family"/> has (empty for a family structured pruning does not know).</summary>
    public static IReadOnlyList<PruneUnit> UnitsOf(string family) => family switch
    {
        "mlp" => [PruneUnit.Neurons],
        "cnn" => [PruneUnit.Channels, PruneUnit.Neurons],
        "bert" or "vit" => [PruneUnit.Ffn, PruneUnit.Heads],
        _ => [],
    };

    /// <summary>The kinds pruned when a recipe names none: every kind of the family except attention heads (so recipes
    /// written before head pruning keep their meaning).</summary>
    public static IReadOnlyList<PruneUnit> DefaultUnits(string family) => UnitsOf(family).Where(u => u != PruneUnit.Heads).ToList();

    /// <summary>
    /// The unit groups of a model of the given kinds (null = <see cref="DefaultUnits"/>), and whether the config forces
    /// one unit count for all its <see cref="PruneUnit.Ffn"/> groups (bert/vit: one <c>intermediate_size</c>).
    /// </summary>
    /// <exception cref="NotSupportedException">The family has no structured units, or not the asked kinds.</exception>
    public static (IReadOnlyList<UnitGroup> Groups, bool Uniform) Groups(DistillModel model, IReadOnlyCollection<PruneUnit>? units = null)
    {
        var known = UnitsOf(model.Family);
        if (known.Count == 0)
            throw new NotSupportedException($"Structured pruning does not know the units of the '{model.Family}' family (mlp, cnn, bert and vit are supported).");
        units ??= DefaultUnits(model.Family);
        var unknown = units.Where(u => !known.Contains(u)).ToList();
        if (unknown.Count > 0)
            throw new NotSupportedException(
                $"Structured pruning: a {model.Family} model has no {string.Join(", ", unknown.Select(Name))} units; its units are {string.Join(", ", known.Select(Name))}.");
        var (all, uniform) = AllGroups(model);
        return (all.Where(g => units.Contains(g.Kind)).ToList(), uniform);
    }

    /// <summary>The recipe spelling of a unit kind (<c>ffn</c>, <c>heads</c>, ...).</summary>
    public static string Name(PruneUnit unit) => Recipes.RecipeProperty.SnakeCase(unit.ToString());

    private static (IReadOnlyList<UnitGroup> Groups, bool Uniform) AllGroups(DistillModel model)
    {
        switch (model.Config)
        {
            case MlpConfig mlp:
            {
                var groups = new List<UnitGroup>();
                for (int i = 0; i < mlp.HiddenSizes.Count; i++)
                {
                    string next = i + 1 < mlp.HiddenSizes.Count ? $"layers.{i + 1}" : "classifier";
                    groups.Add(new UnitGroup($"layers.{i}", mlp.HiddenSizes[i],
                        [new($"layers.{i}.weight", 0), new($"layers.{i}.bias", 0)], [new($"{next}.weight", 1)]) { Kind = PruneUnit.Neurons });
                }
                return (groups, false);
            }
            case CnnConfig cnn:
            {
                var groups = new List<UnitGroup>();
                int side = cnn.FinalSide;
                for (int i = 0; i < cnn.Channels.Count; i++)
                {
                    string p = $"blocks.{i}";
                    TensorSlice consumer = i + 1 < cnn.Channels.Count ? new($"blocks.{i + 1}.conv.weight", 1) : new("fc.weight", 1, side * side);
                    groups.Add(new UnitGroup($"{p}.conv", cnn.Channels[i],
                        [new($"{p}.conv.weight", 0), new($"{p}.norm.weight", 0), new($"{p}.norm.bias", 0),
                         new($"{p}.norm.running_mean", 0), new($"{p}.norm.running_var", 0)],
                        [consumer]));
                }
                groups.Add(new UnitGroup("fc", cnn.HiddenSize, [new("fc.weight", 0), new("fc.bias", 0)], [new("classifier.weight", 1)]));
                return (groups.Select(g => g with { Kind = g.Module == "fc" ? PruneUnit.Neurons : PruneUnit.Channels }).ToList(), false);
            }
            case BertConfig or ViTConfig:
            {
                bool bert = model.Config is BertConfig;
                int size = bert ? ((BertConfig)model.Config).IntermediateSize : ((ViTConfig)model.Config).IntermediateSize;
                int headDim = bert ? ((BertConfig)model.Config).HeadDim : ((ViTConfig)model.Config).HeadDim;
                var names = model.named_modules().Select(m => m.name).ToList();
                var tensors = model.state_dict().Keys.ToHashSet();
                var groups = names.Where(n => FfnPath().IsMatch(n)).Select(n =>
                {
                    string layer = n[..^".intermediate.dense".Length];
                    return new UnitGroup(n, size, [new($"{n}.weight", 0), new($"{n}.bias", 0)], [new($"{layer}.output.dense.weight", 1)]) { Kind = PruneUnit.Ffn };
                }).ToList();
                // bert: <layer>.attention.self.{query,key,value}; vit: <layer>.attention.attention.{query,key,value}.
                var selfPath = bert ? BertHeadPath() : VitHeadPath();
                foreach (string n in names)
                {
                    var m = selfPath.Match(n);
                    if (!m.Success) continue;
                    int layer = int.Parse(m.Groups["i"].Value, System.Globalization.CultureInfo.InvariantCulture);
                    int heads = bert ? ((BertConfig)model.Config).HeadsInLayer(layer) : ((ViTConfig)model.Config).HeadsInLayer(layer);
                    string attention = n[..n.LastIndexOf('.')]; // <layer>.attention
                    var rows = new[] { "query", "key", "value" }.SelectMany(p => new[] { $"{n}.{p}.weight", $"{n}.{p}.bias" })
                        .Where(tensors.Contains).Select(t => new TensorSlice(t, 0, headDim)).ToList();
                    var output = new TensorSlice($"{attention}.output.dense.weight", 1, headDim);
                    groups.Add(new UnitGroup(n, heads, rows, [output])
                    {
                        Kind = PruneUnit.Heads, Layer = layer,
                        MagnitudeSlices = [.. rows.Where(r => r.Name.EndsWith(".weight", StringComparison.Ordinal)), output],
                        TaylorSlices = [output],
                    });
                }
                return (groups, true);
            }
            default:
                throw new NotSupportedException($"Structured pruning does not know the units of the '{model.Family}' family (mlp, cnn, bert and vit are supported).");
        }
    }

    /// <summary>The config of the model with the units <paramref name="keep"/> lists (by group module path, current
    /// indices) left in each of <paramref name="groups"/>; groups without an entry keep all their units.</summary>
    public static IModelConfig ShrinkConfig(DistillModel model, IReadOnlyList<UnitGroup> groups, IReadOnlyDictionary<string, int[]> keep)
    {
        var kept = keep.ToDictionary(kv => kv.Key, kv => kv.Value.Length);
        var ffn = groups.Where(g => g.Kind == PruneUnit.Ffn && kept.ContainsKey(g.Module)).Select(g => kept[g.Module]).ToList();
        return model.Config switch
        {
            MlpConfig mlp => mlp with { HiddenSizes = mlp.HiddenSizes.Select((h, i) => kept.GetValueOrDefault($"layers.{i}", h)).ToList() },
            CnnConfig cnn => cnn with
            {
                Channels = cnn.Channels.Select((c, i) => kept.GetValueOrDefault($"blocks.{i}.conv", c)).ToList(),
                HiddenSize = kept.GetValueOrDefault("fc", cnn.HiddenSize),
            },
            BertConfig bert => bert with
            {
                IntermediateSize = Uniform(ffn, bert.IntermediateSize),
                PrunedHeads = MergeHeads(bert.PrunedHeads, bert.NumHiddenLayers, bert.NumAttentionHeads, groups, keep),
            },
            ViTConfig vit => vit with
            {
                IntermediateSize = Uniform(ffn, vit.IntermediateSize),
                PrunedHeads = MergeHeads(vit.PrunedHeads, vit.NumHiddenLayers, vit.NumAttentionHeads, groups, keep),
            },
            _ => throw new NotSupportedException($"Structured pruning cannot shrink a '{model.Family}' config."),
        };
    }

    private static int Uniform(IReadOnlyList<int> kept, int current)
    {
        var counts = kept.Distinct().ToList();
        if (counts.Count > 1) throw new ArgumentException($"This family has one intermediate_size for all layers; got different kept counts {string.Join(", ", counts)}.");
        return counts.Count == 0 ? current : counts[0];
    }

    /// <summary>pruned_heads after removing, per head group, the heads not in <paramref name="keep"/>: current index c
    /// of layer l is original head <see cref="HeadPruning.Remaining"/>(l)[c].</summary>
    private static Dictionary<string, List<int>>? MergeHeads(Dictionary<string, List<int>>? pruned, int layers, int heads,
        IReadOnlyList<UnitGroup> groups, IReadOnlyDictionary<string, int[]> keep)
    {
        var removed = new Dictionary<int, IReadOnlyCollection<int>>();
        foreach (var g in groups.Where(g => g.Kind == PruneUnit.Heads))
        {
            if (!keep.TryGetValue(g.Module, out var kept)) continue;
            int layer = g.Layer ?? throw new InvalidOperationException($"Head group '{g.Module}' has no layer index.");
            if (kept.Length == 0)
                throw new ArgumentException($"Structured pruning: every head of layer {layer} would be removed; at least one head must remain.");
            var original = HeadPruning.Remaining(pruned, layer, heads);
            if (original.Length != g.Count)
                throw new InvalidOperationException($"Head group '{g.Module}' has {g.Count} heads but pruned_heads leaves {original.Length} in layer {layer}.");
            removed[layer] = Enumerable.Range(0, g.Count).Except(kept).Select(c => original[c]).ToList();
        }
        return removed.Count == 0 ? pruned : HeadPruning.Merge(pruned, layers, removed);
    }

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
        var config = ShrinkConfig(model, groups, keep);
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

    [GeneratedRegex(@"(^|\.)encoder\.layer\.[0-9]+\.intermediate\.dense$", RegexOptions.CultureInvariant)]
    private static partial Regex FfnPath();

    [GeneratedRegex(@"(^|\.)encoder\.layer\.(?<i>[0-9]+)\.attention\.self$", RegexOptions.CultureInvariant)]
    private static partial Regex BertHeadPath();

    [GeneratedRegex(@"(^|\.)encoder\.layer\.(?<i>[0-9]+)\.attention\.attention$", RegexOptions.CultureInvariant)]
    private static partial Regex VitHeadPath();
}
