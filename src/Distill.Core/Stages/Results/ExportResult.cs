using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>export</c>: the artifact written and the model loaded back from it (its metrics, size, latency).</summary>
public sealed record ExportResult : ModelStageResult
{
    /// <summary>The artifact, relative to the run folder.</summary>
    [JsonPropertyName("artifact"), JsonPropertyOrder(10)] public string Artifact { get; init; } = "";

    [JsonPropertyName("artifact_bytes"), JsonPropertyOrder(11)] public long ArtifactBytes { get; init; }

    [JsonPropertyName("predicted_bytes"), JsonPropertyOrder(12)] public long PredictedBytes { get; init; }

    [JsonPropertyName("fp32_bytes"), JsonPropertyOrder(13)] public long Fp32Bytes { get; init; }

    /// <summary>fp32_bytes / artifact_bytes.</summary>
    [JsonPropertyName("compression_ratio"), JsonPropertyOrder(14)] public double CompressionRatio { get; init; }

    [JsonPropertyName("bits_per_weight"), JsonPropertyOrder(15)] public double BitsPerWeight { get; init; }

    [JsonPropertyName("nonzero_params"), JsonPropertyOrder(16)] public long NonzeroParams { get; init; }

    [JsonPropertyName("roundtrip_max_abs_diff"), JsonPropertyOrder(17)] public double RoundtripMaxAbsDiff { get; init; }

    [JsonPropertyName("latency_ms_per_batch"), JsonPropertyOrder(18)] public double LatencyMsPerBatch { get; init; }

    [JsonPropertyName("latency_batch_size"), JsonPropertyOrder(19)] public int LatencyBatchSize { get; init; }

    /// <summary>Per compressible weight (by parameter name).</summary>
    [JsonPropertyName("layers"), JsonPropertyOrder(20)] public Dictionary<string, ExportLayer> Layers { get; init; } = [];

    /// <summary>The widest quantized activation; 32 when activations stay float.</summary>
    [JsonPropertyName("activation_bits"), JsonPropertyOrder(21)] public int ActivationBits { get; init; }

    [JsonPropertyName("teacher_fp32_bytes"), JsonPropertyOrder(22), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public long? TeacherFp32Bytes { get; init; }

    [JsonPropertyName("compression_ratio_vs_teacher"), JsonPropertyOrder(23), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? CompressionRatioVsTeacher { get; init; }

    /// <summary>The ONNX Runtime proof report of <c>model.onnx</c> (<c>onnx: true</c>); null when the stage wrote no graph.</summary>
    [JsonPropertyName("onnx"), JsonPropertyOrder(24), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Onnx.Runtime.OnnxExportReport? Onnx { get; init; }
}
