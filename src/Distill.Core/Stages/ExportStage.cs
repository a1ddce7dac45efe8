using System.Diagnostics;
using System.Text.Json;
using Distill.Checkpoints;
using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Compression.Weightless;
using Distill.Compression;
using Distill.Design;
using Distill.Logging;
using Distill.Models;
using Distill.Recipes;
using Distill.Stages.Results;
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

    public StageOutput Run(StageInputs inputs)
    {
        var run = inputs.Run;
        var student = inputs.Student ?? throw new InvalidOperationException(
            $"Stage '{spec.DisplayName}' exports the run's student, but there is none yet: put a baseline, distill, prune or quantize stage before it.");
        var clock = Stopwatch.StartNew();
        var record = LatestQuantization(run, spec);
        var tables = StudentProducer.ModelDirBefore(run, spec) is { } producer ? WeightlessRecord.Load(producer) : WeightlessRecord.Empty;
        var options = spec.ArtifactOptions(record.Weights) with { Bloomier = tables.Tables };
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
        TrainingCheckpoints.SaveModel(run.ModelDir(spec), loaded, new CheckpointState
        {
            Stage = spec.DisplayName, Kind = spec.Kind, RecipeSha256 = run.RecipeSha256,
        });

        long fp32 = CompressionStats.Fp32Bytes(loaded);
        long parameters = loaded.ParameterCount();
        var weights = WeightNames(loaded);
        var layers = plan.Tensors.Where(t => weights.Contains(t.Name)).ToDictionary(t => t.Name, t => new ExportLayer
        {
            Encoding = t.Describe(),
            BitsPerWeight = t.BitsPerElement,
            Sparsity = 1.0 - (double)t.Nonzeros / Math.Max(1, t.Shape.Aggregate(1L, (a, b) => a * b)),
            ValueBits = t.Bits > 0 ? t.Bits : t.Values == ValueKind.F16 ? 16 : 32,
        });
        long? teacherBytes = inputs.Teacher is { } teacher ? CompressionStats.Fp32Bytes(teacher) : null;
        var onnx = spec.Onnx
            ? OnnxModelExport.Export(student, record, Path.Combine(dir, "model.onnx"), (run.Recipe.Data.EvalSplit, run.EvalData),
                run.Recipe.Data.EvalBatchSize, new OnnxRunExportOptions()).Report!
            : null;
        WriteReport(dir, plan, written);
        if (run.Recipe.Output.Tensorboard) LogToTensorBoard(run, plan, metrics, written);

        var result = new ExportResult
        {
            Name = spec.DisplayName, Metrics = metrics, MetricsBySplit = bySplit, Params = parameters, ModelBytes = loaded.ParameterBytes(),
            WallSeconds = clock.Elapsed.TotalSeconds,
            Artifact = Path.GetRelativePath(run.RunDir, path),
            ArtifactBytes = written,
            PredictedBytes = plan.PredictedBytes,
            Fp32Bytes = fp32,
            CompressionRatio = (double)fp32 / written,
            BitsPerWeight = written * 8.0 / Math.Max(1, parameters),
            NonzeroParams = CompressionStats.NonZeros(loaded),
            RoundtripMaxAbsDiff = maxDiff,
            LatencyMsPerBatch = latency,
            LatencyBatchSize = Math.Min(run.Recipe.Data.EvalBatchSize, run.EvalData.Count),
            ModelDir = run.RelativeModelDir(spec),
            Layers = layers,
            ActivationBits = record.Activations.Count == 0 ? 32 : record.Activations.Max(a => a.Bits),
            TeacherFp32Bytes = teacherBytes,
            CompressionRatioVsTeacher = teacherBytes is { } t ? (double)t / written : null,
            Onnx = onnx,
        };
        return new StageOutput(result, loaded);
    }

    /// <summary>The quantization record of the student as it stands before <paramref name="stage"/>: the one saved by the
    /// last earlier stage that produced the student, when that stage saved one.</summary>
    private static QuantizationRecord LatestQuantization(RunEnvironment run, StageSpec stage) =>
        StudentProducer.ModelDirBefore(run, stage) is { } dir ? QuantizationRecord.Load(dir) : QuantizationRecord.Empty;

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
            format = $"distill-compressed/{plan.Version}",
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

    private void LogToTensorBoard(RunEnvironment run, ArtifactPlan plan, IReadOnlyDictionary<string, double> metrics, long written)
    {
        var writer = new EventFileWriter(Path.Combine(run.RunDir, "tb", spec.DisplayName));
        foreach (var t in plan.Tensors) writer.Scalar($"compression/bits_per_weight/{t.Name}", t.BitsPerElement, 0);
        // Accuracy (transcript data: WER) against size: the x axis (step) is the artifact size in KiB.
        var (primary, _) = EvalMetrics.Primary(metrics);
        writer.Scalar($"compression/{primary}_vs_artifact_kib", metrics[primary], (long)Math.Ceiling(written / 1024.0));
        writer.Scalar("compression/artifact_bytes", written, 0);
    }
}
