using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary>One weight in an export entry's <c>layers</c>.</summary>
public sealed record ExportLayer
{
    [JsonPropertyName("encoding")] public string Encoding { get; init; } = "";

    [JsonPropertyName("bits_per_weight")] public double BitsPerWeight { get; init; }

    [JsonPropertyName("sparsity")] public double Sparsity { get; init; }

    [JsonPropertyName("value_bits")] public int ValueBits { get; init; }
}
