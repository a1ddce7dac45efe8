using Distill.Models.Hf;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Distill.Models;

namespace Distill.Hf;

/// <summary>
/// Writes a family's config record as an HF <c>config.json</c>: the record's own keys (its <c>[JsonPropertyName]</c>s
/// are HF's), plus <c>model_type</c>, <c>architectures</c> (the class <c>from_pretrained</c>/AutoModel builds),
/// <c>num_labels</c> and a consistent <c>id2label</c>/<c>label2id</c> pair (<c>LABEL_i</c> names, HF's default, when the
/// config has none, because HF would otherwise assume 2 labels). Nulls are omitted (HF fills its defaults); keys are
/// sorted, as <c>save_pretrained</c> writes them.
/// </summary>
public static class HfConfigJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The config.json text for a model of <paramref name="family"/> with <paramref name="config"/>.</summary>
    /// <param name="labels">The class names the run trained on, in label order (summary.json <c>labels</c>): they name
    /// the head's outputs when their count is the head's; otherwise the config's own <c>id2label</c>, else <c>LABEL_i</c>.</param>
    public static string Write(IModelConfig config, HfFamily family, IReadOnlyList<string>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(family);
        var node = JsonSerializer.SerializeToNode(config, config.GetType(), Options)?.AsObject()
                   ?? throw new InvalidOperationException($"{config.GetType().Name} serialised to null.");
        int numLabels = family.NumLabels(config);
        node["model_type"] = family.ModelType;
        node["architectures"] = new JsonArray(family.HeadArchitecture(config));
        node["num_labels"] = numLabels;

        var id2label = new JsonObject();
        var label2id = new JsonObject();
        var given = node["id2label"] as JsonObject;
        for (int i = 0; i < numLabels; i++)
        {
            string id = i.ToString(CultureInfo.InvariantCulture);
            string name = labels is { } l && l.Count == numLabels ? l[i] : given?[id]?.GetValue<string>() ?? $"LABEL_{id}";
            id2label[id] = name;
            label2id[name] = i;
        }
        node["id2label"] = id2label;
        node["label2id"] = label2id;

        return Sorted(node);
    }

    /// <summary>
    /// The config.json text of a bare base model (<paramref name="architecture"/>, e.g. <c>BertModel</c>): the record's
    /// keys, <c>model_type</c> and <c>architectures</c>, without the label keys a head needs.
    /// </summary>
    public static string WriteBase(IModelConfig config, HfFamily family, string architecture)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(family);
        var node = JsonSerializer.SerializeToNode(config, config.GetType(), Options)?.AsObject()
                   ?? throw new InvalidOperationException($"{config.GetType().Name} serialised to null.");
        node["model_type"] = family.ModelType;
        node["architectures"] = new JsonArray(architecture);
        return Sorted(node);
    }

    private static string Sorted(JsonObject node)
    {
        var sorted = new JsonObject();
        foreach (var (key, value) in node.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList())
        {
            node.Remove(key);
            sorted[key] = value;
        }
        return sorted.ToJsonString(Options) + "\n";
    }
}
