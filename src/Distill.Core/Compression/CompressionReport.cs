using Distill.Compression.Artifact;
using Distill.Data;
using Distill.Design;
using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Compression;

/// <summary>
/// The size and speed every compression stage reports (<see cref="CompressionEstimate"/>): non-zeros, fp32 bytes, the
/// exact artifact size the export encoder would write now and the ratios from it, and CPU latency per batch.
/// </summary>
public static class CompressionReport
{
    /// <param name="evalData">Timed in batches of <paramref name="batchSize"/> (the first batch).</param>
    /// <param name="teacher">For the ratios against the fp32 teacher; null = none.</param>
    public static CompressionEstimate Measure(DistillModel model, IDataset evalData, int batchSize, Device device, DistillModel? teacher,
        ArtifactOptions? options = null, IReadOnlyList<Quantization.ActivationRange>? activations = null)
    {
        var plan = ModelArtifact.Plan(model, options ?? new ArtifactOptions(), activations);
        long fp32 = CompressionStats.Fp32Bytes(model);
        long parameters = model.ParameterCount();
        long? teacherBytes = teacher is null ? null : CompressionStats.Fp32Bytes(teacher);
        return new CompressionEstimate
        {
            NonzeroParams = CompressionStats.NonZeros(model),
            Fp32Bytes = fp32,
            EstimatedArtifactBytes = plan.PredictedBytes,
            EstimatedCompressionRatio = (double)fp32 / plan.PredictedBytes,
            EstimatedBitsPerWeight = plan.PredictedBytes * 8.0 / Math.Max(1, parameters),
            LatencyMsPerBatch = LatencyProfiler.MedianMsPerBatch([model], evalData, batchSize, device)[0],
            LatencyBatchSize = Math.Min(batchSize, evalData.Count),
            TeacherFp32Bytes = teacherBytes,
            EstimatedCompressionRatioVsTeacher = teacherBytes is { } t ? (double)t / plan.PredictedBytes : null,
        };
    }
}
