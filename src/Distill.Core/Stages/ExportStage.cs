using System.Diagnostics;
using System.Text.Json;
using Distill.Checkpoints;
using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Compression;
using Distill.Design;
using Distill.Logging;
using Distill.Models;
using Distill.Training;
using TorchSharp;

namespace Distill.Stages;

/// <summary>
/// Encodes the run's student into the compressed artifact, checks that the file has exactly the size the encoder
/// predicted, loads the model back from the file alone and reports that model: its metrics, CPU latency, and
/// <c>artifact_bytes</c>, <c>fp32_bytes</c>, <c>compression_ratio</c> (= fp32_bytes / artifact_bytes), the ratio against the
/// fp32 teacher, bits per weight and the largest difference between the reloaded and the in-memory weights. The
/// reloaded model becomes the run's student. A per-tensor table goes to <c>artifacts/&lt;stage&gt;/report.json</c>.
/// </summary>
public sealed class ExportStage(ExportStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.Student;

    public StageResult Run(RunContext run)
    {
        var student = run.Student ?? throw new InvalidOperationException(
            $"Stage '{spec.DisplayName}' exports the run's student, but there is none yet: put a baseline, distill, prune or quantize stage before it.");
        var clock = Stopwatch.StartNew();
        var record = QuantizationRecord.Latest(run, spec);
        var options = spec.ArtifactOptions(record.Weights);
        string dir = Path.Combine(run.RunDir, "artifacts", spec.DisplayName);
        string path = Path.Combine(dir, "model.dcmp");
        var plan = ModelArtifact.Plan(student, options, record.Activations);
        long written = ArtifactEncoder.Write(plan, path);
        if (written != plan.PredictedBytes)
            throw new InvalidOperationException($"Internal error: {path} has {written} bytes, the encoder predicted {plan.PredictedBytes}.");
        ArtifactChecksum.Write(path);

        var loaded = ModelArtifact.Load(path, ModelRegistry.Default).to(run.Device);
        double maxDiff = MaxAbsDifference(student, loaded);
        var (metrics, bySplit) = run.Evaluate(loaded);
        double latency = LatencyProfiler.MedianMsPerBatch([loaded], run.EvalData, run.Recipe.Data.EvalBatchSize, run.Device, spec.LatencyRuns)[0];
        CheckpointIO.SaveModel(run.ModelDir(spec), loaded, new CheckpointState
        {
            Stage = spec.DisplayName, Kind = spec.Kind, RecipeSha256 = run.RecipeSha256,
        });

        long fp32 = CompressionStats.Fp32Bytes(loaded);
        long parameters = loaded.ParameterCount();
        var weights = WeightNames(loaded);
        var layers = plan.Tensors.Where(t => weights.Contains(t.Name)).ToDictionary(t => t.Name, t => (object)new Dictionary<string, object>
        {
            ["encoding"] = t.Describe(),
            ["bits_per_weight"] = t.BitsPerElement,
            ["sparsity"] = 1.0 - (double)t.Nonzeros / Math.Max(1, t.Shape.Aggregate(1L, (a, b) => a * b)),
            ["value_bits"] = t.Bits > 0 ? t.Bits : t.Values == ValueKind.F16 ? 16 : 32,
        });
        var extra = new Dictionary<string, object>
        {
            ["artifact"] = Path.GetRelativePath(run.RunDir, path),
            ["artifact_bytes"] = written,
            ["predicted_bytes"] = plan.PredictedBytes,
            ["fp32_bytes"] = fp32,
            ["compression_ratio"] = (double)fp32 / written,
            ["bits_per_weight"] = written * 8.0 / Math.Max(1, parameters),
            ["nonzero_params"] = CompressionStats.NonZeros(loaded),
            ["roundtrip_max_abs_diff"] = maxDiff,
            ["latency_ms_per_batch"] = latency,
            ["latency_batch_size"] = Math.Min(run.Recipe.Data.EvalBatchSize, run.EvalData.Count),
            ["model_dir"] = Path.GetRelativePath(run.RunDir, run.ModelDir(spec)),
            ["layers"] = layers,
            ["activation_bits"] = record.Activations.Count == 0 ? 32 : record.Activations.Max(a => a.Bits),
        };
        if (run.Teacher is { } teacher)
        {
            long teacherBytes = CompressionStats.Fp32Bytes(teacher);
            extra["teacher_fp32_bytes"] = teacherBytes;
            extra["compression_ratio_vs_teacher"] = (double)teacherBytes / written;
        }
        if (spec.Onnx)
            extra["onnx"] = Runs.OnnxRunExport.ExportModel(student, record, Path.Combine(dir, "model.onnx"), (run.Recipe.Data.EvalSplit, run.EvalData),
                run.Recipe.Data.EvalBatchSize, new Runs.OnnxRunExportOptions()).Report!;
        WriteReport(dir, plan, written);
        if (run.Recipe.Output.Tensorboard) LogToTensorBoard(run, plan, metrics, written);

        run.Student = loaded;
        return new StageResult
        {
            Name = spec.DisplayName, Kind = spec.Kind, Metrics = metrics, MetricsBySplit = bySplit, Params = parameters, ModelBytes = loaded.ParameterBytes(),
            WallSeconds = clock.Elapsed.TotalSeconds, Extra = extra,
        };
    }

    /// <summary>Names of the Linear/Conv weights and the embedding weights (the tensors compression can act on), for the
    /// per-layer table.</summary>
    private static HashSet<string> WeightNames(DistillModel model)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, module) in model.named_modules())
        {
            if (PruneSelector.IsPrunableModule(module)) names.Add($"{path}.weight");
            else if (PruneSelector.EmbeddingParameter(module) is { } parameter) names.Add($"{path}.{parameter}");
        }
        return names;
    }

    private static double MaxAbsDifference(DistillModel a, DistillModel b)
    {
        using var _ = torch.no_grad();
        var sb = b.state_dict();
        double max = 0;
        foreach (var (k, v) in a.state_dict())
        {
            using var scope = torch.NewDisposeScope();
            if (!v.is_floating_point()) continue;
            max = Math.Max(max, (v.to(torch.float64) - sb[k].to(v.device).to(torch.float64)).abs().max().item<double>());
        }
        return max;
    }

    private static void WriteReport(string dir, ArtifactPlan plan, long written)
    {
        var report = new
        {
            format = $"distill-compressed/{ArtifactEncoder.Version}",
            artifact_bytes = written,
            header_bytes = plan.HeaderBytes,
            tensors = plan.Tensors.Select(t => new
            {
                name = t.Name, shape = t.Shape, values = t.Values.ToString().ToLowerInvariant(), positions = t.PositionName,
                bits = t.Bits, index_bits = t.IndexBits, n = t.N, m = t.M, huffman_values = t.ValueHuffman is not null,
                huffman_positions = t.PositionHuffman is not null, scale_codebook = t.ScaleCodebook?.Length ?? 0,
                stored = t.StoredCount, nonzeros = t.Nonzeros, bytes = t.PredictedBytes,
                bits_per_element = t.BitsPerElement, max_abs_error = t.MaxAbsError,
            }),
        };
        File.WriteAllText(Path.Combine(dir, "report.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
    }

    private void LogToTensorBoard(RunContext run, ArtifactPlan plan, IReadOnlyDictionary<string, double> metrics, long written)
    {
        var writer = new EventFileWriter(Path.Combine(run.RunDir, "tb", spec.DisplayName));
        foreach (var t in plan.Tensors) writer.Scalar($"compression/bits_per_weight/{t.Name}", t.BitsPerElement, 0);
        // Accuracy against size: the x axis (step) is the artifact size in KiB.
        writer.Scalar("compression/accuracy_vs_artifact_kib", metrics["accuracy"], (long)Math.Ceiling(written / 1024.0));
        writer.Scalar("compression/artifact_bytes", written, 0);
    }
}
