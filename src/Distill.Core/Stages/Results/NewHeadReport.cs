using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>&lt;role&gt;_new_head</c>: a pretrained folder's head was resized or missing, so it is newly initialised.</summary>
public sealed record NewHeadReport
{
    [JsonPropertyName("pretrained")] public required string Pretrained { get; init; }

    [JsonPropertyName("reason")] public required string Reason { get; init; }

    /// <summary>Each new tensor with why (<c>"classifier.weight (shape differs: ...)"</c>).</summary>
    [JsonPropertyName("keys")] public required List<string> Keys { get; init; }
}
