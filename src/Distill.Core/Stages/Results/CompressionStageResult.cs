using System.Text.Json.Serialization;
using Distill.Compression;

namespace Distill.Stages.Results;

/// <summary>The size and speed keys of <see cref="CompressionEstimate"/> that the prune and quantize entries carry.</summary>
public abstract record CompressionStageResult : ModelStageResult
{
    [JsonPropertyName("nonzero_params"), JsonPropertyOrder(50)] public long NonzeroParams { get; init; }

    [JsonPropertyName("fp32_bytes"), JsonPropertyOrder(51)] public long Fp32Bytes { get; init; }

    [JsonPropertyName("estimated_artifact_bytes"), JsonPropertyOrder(52)] public long EstimatedArtifactBytes { get; init; }

    [JsonPropertyName("estimated_compression_ratio"), JsonPropertyOrder(53)] public double EstimatedCompressionRatio { get; init; }

    [JsonPropertyName("estimated_bits_per_weight"), JsonPropertyOrder(54)] public double EstimatedBitsPerWeight { get; init; }

    [JsonPropertyName("latency_ms_per_batch"), JsonPropertyOrder(55)] public double LatencyMsPerBatch { get; init; }

    [JsonPropertyName("latency_batch_size"), JsonPropertyOrder(56)] public int LatencyBatchSize { get; init; }

    [JsonPropertyName("teacher_fp32_bytes"), JsonPropertyOrder(57), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? TeacherFp32Bytes { get; init; }

    [JsonPropertyName("estimated_compression_ratio_vs_teacher"), JsonPropertyOrder(58), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? EstimatedCompressionRatioVsTeacher { get; init; }

    /// <summary>A copy with the estimate's keys.</summary>
    public T WithEstimate<T>(CompressionEstimate e) where T : CompressionStageResult => (T)(this with
    {
        NonzeroParams = e.NonzeroParams, Fp32Bytes = e.Fp32Bytes, EstimatedArtifactBytes = e.EstimatedArtifactBytes,
        EstimatedCompressionRatio = e.EstimatedCompressionRatio, EstimatedBitsPerWeight = e.EstimatedBitsPerWeight,
        LatencyMsPerBatch = e.LatencyMsPerBatch, LatencyBatchSize = e.LatencyBatchSize, TeacherFp32Bytes = e.TeacherFp32Bytes,
        EstimatedCompressionRatioVsTeacher = e.EstimatedCompressionRatioVsTeacher,
    });
}
