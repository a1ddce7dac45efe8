using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>weightless</c>: the weights this stage stored as Bloomier filters, and the model fine-tuned after freezing them.</summary>
public sealed record WeightlessResult : CompressionStageResult
{
    /// <summary>The weights encoded by this stage (by parameter name).</summary>
    [JsonPropertyName("layers"), JsonPropertyOrder(10)] public Dictionary<string, WeightlessLayerResult> Layers { get; init; } = [];

    /// <summary>Every weight frozen as a Bloomier table so far (this stage's and earlier weightless stages').</summary>
    [JsonPropertyName("frozen"), JsonPropertyOrder(11)] public List<string> Frozen { get; init; } = [];
}
