using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>&lt;role&gt;_new_parts</c>: parts (a pooler) a pretrained folder lacks, newly initialised as transformers does.</summary>
public sealed record NewPartsReport
{
    [JsonPropertyName("pretrained")] public required string Pretrained { get; init; }

    [JsonPropertyName("parts")] public required List<NewPartReport> Parts { get; init; }
}
