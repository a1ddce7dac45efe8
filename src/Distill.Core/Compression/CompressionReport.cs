using Distill.Compression.Artifact;
using Distill.Design;
using Distill.Models;
using Distill.Stages;

namespace Distill.Compression;

/// <summary>
/// The size and speed keys every compression stage adds to its summary.json entry: <c>nonzero_params</c>,
/// <c>fp32_bytes</c> (the model's parameters as dense float32), <c>teacher_fp32_bytes</c>, <c>estimated_artifact_bytes</c>
/// (what the export encoder would write for this model now, computed exactly without writing),
/// <c>estimated_compression_ratio</c> (fp32_bytes / estimated_artifact_bytes), <c>estimated_compression_ratio_vs_teacher</c>,
/// <c>estimated_bits_per_weight</c>,
/// <c>latency_ms_per_batch</c> and <c>latency_batch_size</c>.
/// </summary>
public static class CompressionReport
{
    public static Dictionary<string, object> Measure(RunContext run, DistillModel model, ArtifactOptions? options = null,
        IReadOnlyList<Quantization.ActivationRange>? activations = null)
    {
        var plan = ModelArtifact.Plan(model, options ?? new ArtifactOptions(), activations);
        long fp32 = CompressionStats.Fp32Bytes(model);
        long parameters = model.ParameterCount();
        var result = new Dictionary<string, object>
        {
            ["nonzero_params"] = CompressionStats.NonZeros(model),
            ["fp32_bytes"] = fp32,
            ["estimated_artifact_bytes"] = plan.PredictedBytes,
            ["estimated_compression_ratio"] = (double)fp32 / plan.PredictedBytes,
            ["estimated_bits_per_weight"] = plan.PredictedBytes * 8.0 / Math.Max(1, parameters),
            ["latency_ms_per_batch"] = LatencyProfiler.MedianMsPerBatch([model], run.EvalData, run.Recipe.Data.EvalBatchSize, run.Device)[0],
            ["latency_batch_size"] = Math.Min(run.Recipe.Data.EvalBatchSize, run.EvalData.Count),
        };
        if (run.Teacher is { } teacher)
        {
            long teacherBytes = CompressionStats.Fp32Bytes(teacher);
            result["teacher_fp32_bytes"] = teacherBytes;
            result["estimated_compression_ratio_vs_teacher"] = (double)teacherBytes / plan.PredictedBytes;
        }
        return result;
    }
}
