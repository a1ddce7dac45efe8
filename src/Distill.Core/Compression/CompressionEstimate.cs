namespace Distill.Compression;

/// <summary>The size and speed of a (compressed) model as <see cref="CompressionReport.Measure"/> finds them; the
/// compression stages' summary keys of the same names.</summary>
public sealed record CompressionEstimate
{
    public long NonzeroParams { get; init; }

    /// <summary>The model's parameters as dense float32.</summary>
    public long Fp32Bytes { get; init; }

    /// <summary>What the export encoder would write for this model now, computed exactly without writing.</summary>
    public long EstimatedArtifactBytes { get; init; }

    /// <summary><see cref="Fp32Bytes"/> / <see cref="EstimatedArtifactBytes"/>.</summary>
    public double EstimatedCompressionRatio { get; init; }

    public double EstimatedBitsPerWeight { get; init; }

    public double LatencyMsPerBatch { get; init; }

    public int LatencyBatchSize { get; init; }

    /// <summary>The teacher's parameters as dense float32; null without a teacher.</summary>
    public long? TeacherFp32Bytes { get; init; }

    public double? EstimatedCompressionRatioVsTeacher { get; init; }
}
