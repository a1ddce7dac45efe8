using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Distill.Design;

namespace Distill.Stages.Results;

/// <summary>The candidate a design stage picked.</summary>
public sealed record DesignPick
{
    [JsonPropertyName("label")] public string Label { get; init; } = "";

    /// <summary>The searched dimensions, as the family names them.</summary>
    [JsonPropertyName("dims")] public required JsonObject Dims { get; init; }

    /// <summary>The picked config, as the family writes it.</summary>
    [JsonPropertyName("config")] public required JsonObject Config { get; init; }

    [JsonPropertyName("params")] public long Params { get; init; }

    [JsonPropertyName("capacity")] public long Capacity { get; init; }

    [JsonPropertyName("predicted_ms")] public double PredictedMs { get; init; }

    [JsonPropertyName("measured")] public required LatencyMeasurement Measured { get; init; }
}
