using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>allocation</c> of a quantize entry: the byte budget, the chosen option per layer and every option measured.</summary>
public sealed record AllocationReport
{
    [JsonPropertyName("target_bytes")] public long TargetBytes { get; init; }

    [JsonPropertyName("predicted_bytes")] public long PredictedBytes { get; init; }

    [JsonPropertyName("summed_sensitivity")] public double SummedSensitivity { get; init; }

    /// <summary><c>kl</c> or <c>loss</c>.</summary>
    [JsonPropertyName("sensitivity")] public string Sensitivity { get; init; } = "";

    /// <summary>By parameter name.</summary>
    [JsonPropertyName("chosen")] public Dictionary<string, AllocationChoice> Chosen { get; init; } = [];

    /// <summary>By parameter name, every candidate measured.</summary>
    [JsonPropertyName("options")] public Dictionary<string, List<AllocationOption>> Options { get; init; } = [];

    [JsonPropertyName("target_ratio"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? TargetRatio { get; init; }
}
