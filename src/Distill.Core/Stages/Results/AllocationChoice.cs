using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary>The option an allocation chose for one layer.</summary>
public sealed record AllocationChoice
{
    [JsonPropertyName("sparsity")] public string Sparsity { get; init; } = "";

    [JsonPropertyName("measured_sparsity")] public double MeasuredSparsity { get; init; }

    [JsonPropertyName("bits")] public int Bits { get; init; }

    [JsonPropertyName("bytes")] public long Bytes { get; init; }

    [JsonPropertyName("sensitivity")] public double Sensitivity { get; init; }
}
