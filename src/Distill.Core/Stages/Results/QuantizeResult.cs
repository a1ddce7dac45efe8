using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>quantize</c>: the method, the widths per layer, the allocation under a byte budget (when asked).</summary>
public sealed record QuantizeResult : CompressionStageResult
{
    /// <summary><c>kmeans</c>, <c>qat</c> or <c>ptq</c>.</summary>
    [JsonPropertyName("method"), JsonPropertyOrder(10)] public string Method { get; init; } = "";

    /// <summary>Bits per quantized weight (by parameter name).</summary>
    [JsonPropertyName("layer_bits"), JsonPropertyOrder(11)] public Dictionary<string, int> LayerBits { get; init; } = [];

    [JsonPropertyName("sparsity"), JsonPropertyOrder(12)] public double Sparsity { get; init; }

    /// <summary>The linear grid (qat, ptq); null for kmeans.</summary>
    [JsonPropertyName("scheme"), JsonPropertyOrder(13), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Scheme { get; init; }

    /// <summary>Width of the quantized layer inputs; null when activations stay float.</summary>
    [JsonPropertyName("activation_bits"), JsonPropertyOrder(14), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? ActivationBits { get; init; }

    [JsonPropertyName("allocation"), JsonPropertyOrder(15), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public AllocationReport? Allocation { get; init; }

    /// <summary>The target-accuracy search (<c>max_accuracy_drop</c>); null otherwise.</summary>
    [JsonPropertyName("accuracy_search"), JsonPropertyOrder(16), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public AccuracySearchReport? AccuracySearch { get; init; }
}
