using System.Globalization;
using System.Text.RegularExpressions;

namespace Distill.Models.Pruning;

/// <summary>
/// The units of an HF encoder (bert, vit): feed-forward neurons (<c>intermediate_size</c> — one value for all layers, so
/// every layer keeps the same number, each its own best ones) and attention heads (HF's <c>pruned_heads</c>, see
/// <see cref="HeadPruning"/>: per layer, so layers may keep different numbers). A head h of a layer owns rows
/// h·d..(h+1)·d (d = head_dim) of query/key/value (weight and bias) and the same columns of
/// <c>attention.output.dense.weight</c>; the smaller config lists the removed heads by their ORIGINAL index, merged with
/// those an earlier round removed, exactly as HF's <c>prune_heads</c> records them, so an exported folder loads in
/// transformers. The config is read through <see cref="ITransformerEncoderConfig"/>.
/// </summary>
/// <param name="basePrefix">HF <c>base_model_prefix</c> of the task model (<c>bert</c>, <c>vit</c>).</param>
/// <param name="selfAttention">The module holding query/key/value under <c>encoder.layer.N</c> (bert:
/// <c>attention.self</c>, vit: <c>attention.attention</c>).</param>
public sealed class TransformerEncoderUnits(string basePrefix, string selfAttention) : PrunableUnits
{
    private static readonly Regex FfnPath = new(@"(^|\.)encoder\.layer\.[0-9]+\.intermediate\.dense$", RegexOptions.CultureInvariant);

    private readonly Regex _headPath = new(@"(^|\.)encoder\.layer\.(?<i>[0-9]+)\." + Regex.Escape(selfAttention) + "$", RegexOptions.CultureInvariant);

    public override IReadOnlyList<PruneUnit> Kinds { get; } = [PruneUnit.Ffn, PruneUnit.Heads];

    public override bool UniformFfn => true;

    public override string HeadModule(int layer) => $"{basePrefix}.encoder.layer.{layer.ToString(CultureInfo.InvariantCulture)}.{selfAttention}";

    private static ITransformerEncoderConfig Encoder(IModelConfig config) => config as ITransformerEncoderConfig
        ?? throw new NotSupportedException($"Structured pruning of encoder units needs a transformer encoder config, got {config.GetType().Name}.");

    public override IReadOnlyList<UnitGroup> Groups(DistillModel model)
    {
        var c = Encoder(model.Config);
        var names = model.named_modules().Select(m => m.name).ToList();
        var tensors = model.state_dict().Keys.ToHashSet();
        var groups = names.Where(n => FfnPath.IsMatch(n)).Select(n =>
        {
            string layer = n[..^".intermediate.dense".Length];
            return new UnitGroup(n, c.IntermediateSize, [new($"{n}.weight", 0), new($"{n}.bias", 0)], [new($"{layer}.output.dense.weight", 1)]) { Kind = PruneUnit.Ffn };
        }).ToList();
        foreach (string n in names)
        {
            var m = _headPath.Match(n);
            if (!m.Success) continue;
            int layer = int.Parse(m.Groups["i"].Value, CultureInfo.InvariantCulture);
            string attention = n[..n.LastIndexOf('.')]; // <layer>.attention
            var rows = new[] { "query", "key", "value" }.SelectMany(p => new[] { $"{n}.{p}.weight", $"{n}.{p}.bias" })
                .Where(tensors.Contains).Select(t => new TensorSlice(t, 0, c.HeadDim)).ToList();
            var output = new TensorSlice($"{attention}.output.dense.weight", 1, c.HeadDim);
            groups.Add(new UnitGroup(n, c.HeadsInLayer(layer), rows, [output])
            {
                Kind = PruneUnit.Heads, Layer = layer,
                MagnitudeSlices = [.. rows.Where(r => r.Name.EndsWith(".weight", StringComparison.Ordinal)), output],
                TaylorSlices = [output],
            });
        }
        return groups;
    }

    public override IModelConfig Shrink(IModelConfig config, IReadOnlyList<UnitGroup> groups, IReadOnlyDictionary<string, int[]> keep)
    {
        var c = Encoder(config);
        var ffn = groups.Where(g => g.Kind == PruneUnit.Ffn && keep.ContainsKey(g.Module)).Select(g => keep[g.Module].Length).ToList();
        return c.WithEncoder(c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, Uniform(ffn, c.IntermediateSize),
            MergeHeads(c.PrunedHeads, c.NumHiddenLayers, c.NumAttentionHeads, groups, keep));
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
}
