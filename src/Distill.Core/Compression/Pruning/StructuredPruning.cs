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
/// its family. Units per family: <c>mlp</c> hidden neurons (<c>hidden_sizes</c>, per layer); <c>cnn</c> conv channels
/// (<c>channels</c>, per block, with their BatchNorm entries and the head columns they feed) and the head's hidden
/// neurons (<c>hidden_size</c>); <c>bert</c>/<c>vit</c> feed-forward neurons (<c>intermediate_size</c> — one value
/// for all layers, so every layer keeps the same number, each its own best ones). Attention heads are not removed:
/// the bert/vit modules have one head count for all layers.
/// Removing a unit equals zeroing what the next layer reads from it (<see cref="MaskConsumers"/>), which the tests use
/// to check the rebuilt model.
/// </summary>
public static partial class StructuredPruning
{
    /// <summary>The unit groups of a model, and whether its config forces one unit count for all groups.</summary>
    public static (IReadOnlyList<UnitGroup> Groups, bool Uniform) Groups(DistillModel model)
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
                        [new($"layers.{i}.weight", 0), new($"layers.{i}.bias", 0)], [new($"{next}.weight", 1)]));
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
                return (groups, false);
            }
            case BertConfig or ViTConfig:
            {
                int size = model.Config is BertConfig b ? b.IntermediateSize : ((ViTConfig)model.Config).IntermediateSize;
                var groups = model.named_modules().Select(m => m.name).Where(n => FfnPath().IsMatch(n)).Select(n =>
                {
                    string layer = n[..^".intermediate.dense".Length];
                    return new UnitGroup(n, size, [new($"{n}.weight", 0), new($"{n}.bias", 0)], [new($"{layer}.output.dense.weight", 1)]);
                }).ToList();
                return (groups, true);
            }
            default:
                throw new NotSupportedException($"Structured pruning does not know the units of the '{model.Family}' family (mlp, cnn, bert and vit are supported).");
        }
    }

    /// <summary>The config of the model with <paramref name="kept"/> units left in each group (by module path).</summary>
    public static IModelConfig ShrinkConfig(DistillModel model, IReadOnlyDictionary<string, int> kept) => model.Config switch
    {
        MlpConfig mlp => mlp with { HiddenSizes = mlp.HiddenSizes.Select((h, i) => kept.GetValueOrDefault($"layers.{i}", h)).ToList() },
        CnnConfig cnn => cnn with
        {
            Channels = cnn.Channels.Select((c, i) => kept.GetValueOrDefault($"blocks.{i}.conv", c)).ToList(),
            HiddenSize = kept.GetValueOrDefault("fc", cnn.HiddenSize),
        },
        BertConfig bert => bert with { IntermediateSize = Uniform(kept, bert.IntermediateSize) },
        ViTConfig vit => vit with { IntermediateSize = Uniform(kept, vit.IntermediateSize) },
        _ => throw new NotSupportedException($"Structured pruning cannot shrink a '{model.Family}' config."),
    };

    private static int Uniform(IReadOnlyDictionary<string, int> kept, int current)
    {
        var counts = kept.Values.Distinct().ToList();
        if (counts.Count > 1) throw new ArgumentException($"This family has one intermediate_size for all layers; got different kept counts {string.Join(", ", counts)}.");
        return counts.Count == 0 ? current : counts[0];
    }

    /// <summary>L2 norm of each unit's incoming weights (the group's first producer).</summary>
    public static double[] MagnitudeScores(DistillModel model, UnitGroup group)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var w = model.state_dict()[group.Producers[0].Name];
        var rows = w.detach().to(ScalarType.Float64).transpose(group.Producers[0].Dim, 0).reshape(group.Count, -1);
        return rows.pow(2).sum(1).sqrt().cpu().data<double>().ToArray();
    }

    /// <summary>
    /// First-order Taylor importance: for every batch, t_u = Σ g·w over the unit's producer parameters that have a
    /// gradient; the score is the mean of t_u² over the batches. The model runs in eval mode (no dropout), so the
    /// scores are deterministic. Gradients left on the parameters are cleared.
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
                foreach (var slice in g.Producers)
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

    /// <summary>The units to keep in a group: the round((1 − sparsity)·count) best (at least one), in index order.</summary>
    public static int[] Keep(double[] scores, double sparsity)
    {
        int keep = Math.Max(1, (int)Math.Round((1 - sparsity) * scores.Length, MidpointRounding.AwayFromZero));
        return Enumerable.Range(0, scores.Length).OrderByDescending(u => scores[u]).ThenBy(u => u).Take(keep).Order().ToArray();
    }

    /// <summary>The model rebuilt from the smaller config, holding the kept slices of every tensor (strictly checked).</summary>
    public static DistillModel Shrink(DistillModel model, IReadOnlyList<UnitGroup> groups, IReadOnlyDictionary<string, int[]> keep, ModelRegistry registry)
    {
        var config = ShrinkConfig(model, keep.ToDictionary(kv => kv.Key, kv => kv.Value.Length));
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
}
