using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>prune</c>: masked (magnitude, N:M) or structured pruning; the keys of the other method are null (absent).</summary>
public sealed record PruneResult : CompressionStageResult
{
    /// <summary>Masked pruning: the fraction of the selected weights that are zero.</summary>
    [JsonPropertyName("sparsity"), JsonPropertyOrder(10), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? Sparsity { get; init; }

    /// <summary>Masked pruning: how many weights the masks cover.</summary>
    [JsonPropertyName("pruned_weights"), JsonPropertyOrder(11), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? PrunedWeights { get; init; }

    /// <summary>Masked pruning: sparsity per pruned weight (by parameter name).</summary>
    [JsonPropertyName("layer_sparsity"), JsonPropertyOrder(12), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, double>? LayerSparsity { get; init; }

    /// <summary><c>structured</c> for structured pruning; null for masked.</summary>
    [JsonPropertyName("method"), JsonPropertyOrder(20), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Method { get; init; }

    [JsonPropertyName("units"), JsonPropertyOrder(21), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<string>? Units { get; init; }

    [JsonPropertyName("params_before"), JsonPropertyOrder(22), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? ParamsBefore { get; init; }

    /// <summary>Units kept per unit group (by module path).</summary>
    [JsonPropertyName("kept_units"), JsonPropertyOrder(23), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, int>? KeptUnits { get; init; }

    [JsonPropertyName("removed_units"), JsonPropertyOrder(24), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, int>? RemovedUnits { get; init; }

    /// <summary>The smaller student's config, as its family writes it.</summary>
    [JsonPropertyName("config"), JsonPropertyOrder(25), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public JsonObject? Config { get; init; }

    [JsonPropertyName("fp32_bytes_before"), JsonPropertyOrder(26), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? Fp32BytesBefore { get; init; }

    /// <summary>Structured: the unpruned student's latency, timed alternately with the pruned one.</summary>
    [JsonPropertyName("latency_ms_per_batch_before"), JsonPropertyOrder(60), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? LatencyMsPerBatchBefore { get; init; }
}
