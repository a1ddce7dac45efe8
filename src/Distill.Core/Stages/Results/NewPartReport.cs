using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary>One entry of <see cref="NewPartsReport.Parts"/>.</summary>
public sealed record NewPartReport
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    [JsonPropertyName("keys")] public required List<string> Keys { get; init; }

    [JsonPropertyName("reason")] public required string Reason { get; init; }
}
