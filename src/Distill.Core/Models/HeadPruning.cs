using System.Globalization;

namespace Distill.Models;

/// <summary>
/// HuggingFace's <c>pruned_heads</c> config key (bert, vit): which attention heads were removed from which encoder
/// layer, as <c>{"layer": [original head indices]}</c> (JSON keys are strings, e.g. <c>{"0": [1, 3], "2": [0]}</c>).
/// HF semantics (transformers 4.40 <c>PreTrainedModel.prune_heads</c>, <c>find_pruneable_heads_and_indices</c>):
/// the head width stays <c>hidden_size / num_attention_heads</c>; layer i keeps
/// <c>num_attention_heads − |pruned_heads[i]|</c> heads, the remaining ones in their original order, so
/// query/key/value have <c>kept·head_dim</c> outputs and <c>attention.output.dense</c> has <c>kept·head_dim</c> inputs.
/// Indices are always ORIGINAL ones (of the unpruned layer): a second pruning round adds to the list, it never
/// renumbers it. <c>from_pretrained</c> builds the full model, prunes it by this map and then loads the (smaller)
/// weights, so a folder whose config carries the map holds the smaller tensors.
/// HF's <c>prune_heads</c> does not forbid pruning every head of a layer (it would build zero-width projections, the
/// output projection then adding only its bias); Distill refuses it, because such a layer has no attention at all and
/// is better expressed by removing the layer.
/// </summary>
public static class HeadPruning
{
    /// <summary>Problems of <paramref name="pruned"/> for a model of <paramref name="layers"/> layers of
    /// <paramref name="heads"/> heads each, as (config key, message).</summary>
    public static IEnumerable<(string Key, string Message)> Validate(IReadOnlyDictionary<string, List<int>>? pruned, int layers, int heads)
    {
        if (pruned is null) yield break;
        var seen = new HashSet<int>();
        foreach (var (key, list) in pruned)
        {
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int layer))
            {
                yield return ("pruned_heads", $"key \"{key}\" is not a layer index; keys are encoder layer numbers written as strings (\"0\" to \"{layers - 1}\")");
                continue;
            }
            if (layer >= layers)
            {
                yield return ("pruned_heads", layers == 0
                    ? $"layer {key} does not exist: the model has no encoder layers (num_hidden_layers 0); remove pruned_heads"
                    : $"layer {key} does not exist: the model has {layers} layers (num_hidden_layers), numbered 0 to {layers - 1}");
                continue;
            }
            if (!seen.Add(layer)) yield return ("pruned_heads", $"layer {layer} is listed twice (key \"{key}\"); give each layer once");
            if (list is null)
            {
                yield return ("pruned_heads", $"layer {key}: expected a list of head indices, got null (use [] or remove the key)");
                continue;
            }
            var listed = new HashSet<int>();
            foreach (int h in list)
            {
                if (h < 0 || h >= heads)
                    yield return ("pruned_heads", $"layer {key}: head {h} does not exist; heads are numbered by their original index, 0 to {heads - 1} (num_attention_heads {heads})");
                else if (!listed.Add(h))
                    yield return ("pruned_heads", $"layer {key}: head {h} is listed twice");
            }
            if (listed.Count == heads)
                yield return ("pruned_heads", $"layer {key}: all {heads} heads are pruned; at least one head must remain in every layer (remove the layer instead)");
        }
    }

    /// <summary>The original indices of the heads pruned from <paramref name="layer"/>, ascending (empty when none).
    /// Assumes a valid map (see <see cref="Validate"/>).</summary>
    public static IReadOnlyList<int> Pruned(IReadOnlyDictionary<string, List<int>>? pruned, int layer)
    {
        if (pruned is null) return [];
        foreach (var (key, list) in pruned)
            if (int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int l) && l == layer && list is not null)
                return list.Distinct().Order().ToList();
        return [];
    }

    /// <summary>The original indices of the heads left in <paramref name="layer"/>, in order: the layer's current head
    /// c is original head <c>Remaining(...)[c]</c>.</summary>
    public static int[] Remaining(IReadOnlyDictionary<string, List<int>>? pruned, int layer, int heads)
    {
        var gone = Pruned(pruned, layer).ToHashSet();
        return Enumerable.Range(0, heads).Where(h => !gone.Contains(h)).ToArray();
    }

    /// <summary>The number of heads left in <paramref name="layer"/>.</summary>
    public static int HeadsIn(IReadOnlyDictionary<string, List<int>>? pruned, int layer, int heads) => heads - Pruned(pruned, layer).Count;

    /// <summary>True when the map prunes at least one head.</summary>
    public static bool Any(IReadOnlyDictionary<string, List<int>>? pruned) => pruned is not null && pruned.Values.Any(l => l is { Count: > 0 });

    /// <summary>
    /// The map with <paramref name="removed"/> (per layer, ORIGINAL head indices) added to what was pruned before, in
    /// canonical form: keys ascending, each list ascending, layers without pruned heads left out; null when nothing is
    /// pruned (HF's default <c>{}</c>, which config.json then omits).
    /// </summary>
    public static Dictionary<string, List<int>>? Merge(IReadOnlyDictionary<string, List<int>>? pruned, int layers, IReadOnlyDictionary<int, IReadOnlyCollection<int>> removed)
    {
        var result = new Dictionary<string, List<int>>();
        for (int layer = 0; layer < layers; layer++)
        {
            var all = Pruned(pruned, layer).Concat(removed.GetValueOrDefault(layer) ?? []).Distinct().Order().ToList();
            if (all.Count > 0) result[layer.ToString(CultureInfo.InvariantCulture)] = all;
        }
        return result.Count > 0 ? result : null;
    }
}
