using System.Text.Json;
using System.Text.Json.Serialization;
using Distill.Training;

namespace Distill.Stages.Results;

/// <summary><c>metrics_by_split</c>: an object from split name to its metrics, in the recipe's split order.</summary>
public sealed class MetricsBySplitConverter : JsonConverter<IReadOnlyList<SplitMetrics>>
{
    public override IReadOnlyList<SplitMetrics> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var splits = JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, double>>>(ref reader, options)
                     ?? throw new JsonException("metrics_by_split is null.");
        return [.. splits.Select(kv => new SplitMetrics(kv.Key, kv.Value))];
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<SplitMetrics> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var split in value)
        {
            writer.WritePropertyName(split.Split);
            JsonSerializer.Serialize(writer, split.Metrics, options);
        }
        writer.WriteEndObject();
    }
}
