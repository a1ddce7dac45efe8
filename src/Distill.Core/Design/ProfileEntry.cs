using System.Text.Json.Serialization;

namespace Distill.Design;

/// <summary>One cached measurement: which model at which input shape (readable fields), and its timing.</summary>
public sealed record ProfileEntry
{
    [JsonPropertyName("family")] public required string Family { get; init; }

    /// <summary>Short description of the architecture (<c>L4 H256 A4 I1024</c>).</summary>
    [JsonPropertyName("label")] public required string Label { get; init; }

    /// <summary>The batch's input shapes and dtypes, e.g. <c>pixel_values 1x1x28x28 Float32</c>.</summary>
    [JsonPropertyName("inputs")] public required string Inputs { get; init; }

    [JsonPropertyName("latency")] public required LatencyMeasurement Latency { get; init; }
}
