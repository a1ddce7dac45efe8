using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary>One candidate (sparsity, bits) an allocation measured for a layer.</summary>
public sealed record AllocationOption
{
    [JsonPropertyName("sparsity")] public string Sparsity { get; init; } = "";

    [JsonPropertyName("bits")] public int Bits { get; init; }

    [JsonPropertyName("bytes")] public long Bytes { get; init; }

    [JsonPropertyName("sensitivity")] public double Sensitivity { get; init; }
}
