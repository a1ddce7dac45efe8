using Distill.Compression.Quantization;
using Distill.Data;
using Distill.Design;
using Distill.Models;
using Distill.Models.OnnxGraph;
using Distill.Onnx.Export;
using Distill.Onnx.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Stages;

/// <summary>
/// A model as an ONNX graph with its ONNX Runtime proof report, from plain values: what <c>distill export --format
/// onnx</c> (<c>Runs.OnnxRunExport</c>, for a run folder) and the export stage's <c>onnx: true</c> share.
/// </summary>
public static class OnnxModelExport
{
    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="output"/> (int8 from <paramref name="record"/> when the precision
    /// says so) and, unless turned off, its report, evaluated on <paramref name="eval"/> in batches of
    /// <paramref name="evalBatchSize"/>: what the export command and the export stage's <c>onnx: true</c> share.
    /// </summary>
    public static OnnxRunExportResult Export(DistillModel model, QuantizationRecord record, string output, (string Split, IDataset Data)? eval,
        int evalBatchSize, OnnxRunExportOptions options)
    {
        string precision = options.Precision == "auto" ? (record.Weights.Count > 0 ? "int8" : "fp32") : options.Precision;
        // Lookup tables no stage quantized go per row to 8 bits too: in a BERT they are most of the file.
        var quant = precision == "int8"
            ? OnnxInt8Export.From(record, model, embeddingTables: OnnxExportRegistry.Default.Get(model.Family).EmbeddingTables(model))
            : OnnxQuantization.None;
        var exported = OnnxExporter.Export(model, output, new OnnxExportOptions { Quantization = quant });
        if (!options.Report) return new OnnxRunExportResult(exported, precision, null, null);
        var report = Prove(model, exported, precision, record, eval, evalBatchSize, options) with
        {
            QuantizedEmbeddings = [.. quant.Embeddings.Keys], EmbeddingQuantization = EmbeddingReport(model, quant.Embeddings),
        };
        string reportPath = OnnxExportReport.PathFor(exported.Path);
        report.Write(reportPath);
        return new OnnxRunExportResult(exported, precision, report, reportPath);
    }

    /// <summary>What the export-time quantization of lookup tables did: bytes before and after, largest rounding error.</summary>
    private static EmbeddingQuantizationReport? EmbeddingReport(DistillModel model, IReadOnlyDictionary<string, OnnxWeightQuant> tables)
    {
        if (tables.Count == 0) return null;
        var state = model.state_dict();
        long fp32 = 0, int8 = 0;
        double maxError = 0;
        foreach (var (name, q) in tables)
        {
            var values = state[name].detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            int width = values.Length / q.Scales.Length;
            for (int i = 0; i < values.Length; i++)
            {
                int row = i / width;
                maxError = Math.Max(maxError, Math.Abs(q.Scales[row] * (float)(q.Codes[i] - q.ZeroPoints[row]) - values[i]));
            }
            fp32 += 4L * values.Length;
            int8 += values.Length + 5L * q.Scales.Length; // codes, a float scale and an 8-bit zero point per row
        }
        return new EmbeddingQuantizationReport { Scheme = "8-bit per-row asymmetric (uint8), quantized at export", Fp32Bytes = fp32, Int8Bytes = int8, MaxAbsError = maxError };
    }

    private static OnnxExportReport Prove(DistillModel model, OnnxExportResult exported, string precision, QuantizationRecord record,
        (string Split, IDataset Data)? eval, int evalBatchSize, OnnxRunExportOptions options)
    {
        var notes = new List<string>();
        ActivationQuantizers? acts = null;
        if (precision == "int8")
        {
            if (record.Activations.Count > 0)
            {
                // The reference is the fake-quant model the stage evaluated: folded weights and its activation grids.
                acts = ActivationQuantizers.Frozen(record.Activations);
                acts.Attach(model);
            }
            else notes.Add("weight-only int8 (QDQ): the stage recorded no activation ranges; ONNX Runtime fuses DequantizeLinear -> MatMul into MatMulNBits and, " +
                           "by default, quantizes the activations to int8 on the fly, so its logits differ from the fake-quant model's by more than rounding.");
            if (OnnxExportRegistry.Default.Get(model.Family).EmbeddingTables(model).Any(t => !record.Weights.ContainsKey(t)))
                notes.Add("embedding tables the stage left float are stored as per-row 8-bit codes (quantized at export, not trained): " +
                          "the ONNX model's looked-up vectors differ from Distill's by up to half a row's scale; the argmax agreement shows the effect.");
            if (record.Weights.Values.Any(w => w.Bits < 8)) notes.Add("weights below 8 bits are stored in int8/uint8 containers (their codes fit; no sub-byte packing).");
        }
        try
        {
            model.eval();
            long? fp32Bytes = precision == "int8" ? OnnxExporter.ToBytes(model).LongLength : null;
            using var ort = new OnnxRuntimeModel(exported.Path, options.Threads);
            double maxDiff = 0;
            LatencyPair? latency = null;
            double? ortAcc = null, distillAcc = null, agreement = null;
            if (eval is { } e && e.Data.Count > 0)
            {
                var (oAcc, dAcc, agree, diff) = Evaluate(model, ort, e.Data, evalBatchSize);
                (ortAcc, distillAcc, agreement, maxDiff) = (oAcc, dAcc, agree, diff);
                var timing = e.Data.GetBatch(Enumerable.Range(0, Math.Min(options.BatchSize, e.Data.Count)).ToArray());
                if (timing.Size < options.BatchSize) notes.Add($"the evaluation split has only {timing.Size} examples; timed at batch {timing.Size}.");
                latency = Time(model, ort, timing, options);
            }
            else notes.Add("no recipe with evaluation data (give --recipe): no accuracy and no latency rows.");
            return new OnnxExportReport
            {
                File = exported.Path, Family = model.Family, Precision = precision, FileBytes = exported.Bytes, Fp32FileBytes = fp32Bytes,
                Parameters = exported.Parameters, NonZeros = exported.NonZeros, Opset = exported.Opset, Inputs = exported.Inputs, Outputs = exported.Outputs,
                QuantizedWeights = exported.QuantizedWeights, QuantizedActivations = exported.QuantizedActivations,
                BatchSize = latency is null ? options.BatchSize : Math.Min(options.BatchSize, eval!.Value.Data.Count), Threads = options.Threads,
                MaxAbsDiffLogits = maxDiff, Latency = latency,
                EvalSplit = eval?.Split, EvalExamples = eval?.Data.Count, OrtAccuracy = ortAcc, DistillAccuracy = distillAcc, ArgmaxAgreement = agreement,
                LoadAverage = LatencyProfiler.LoadAverage(), Notes = notes,
            };
        }
        finally
        {
            acts?.Detach();
        }
    }

    /// <summary>Both models over the whole split in the evaluator's batches: accuracies (null for per-frame logits such as
    /// CTC's, or unlabelled data), argmax agreement (per example, or per frame), max |Δ logits|.</summary>
    private static (double? Ort, double? Distill, double Agreement, double MaxDiff) Evaluate(DistillModel model, OnnxRuntimeModel ort, IDataset data, int batchSize)
    {
        long ortRight = 0, distillRight = 0, agree = 0, predictions = 0, labelled = 0;
        bool classifier = true;
        double maxDiff = 0;
        using var _ = no_grad();
        var indices = Enumerable.Range(0, data.Count).ToArray();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = data.GetBatch(indices.AsSpan(start, Math.Min(batchSize, data.Count - start)));
            var expected = model.call(batch.To(DeviceOf(model))).Logits.to_type(ScalarType.Float32).cpu();
            var actual = ort.Run(batch);
            maxDiff = Math.Max(maxDiff, (expected - actual).abs().max().item<float>());
            var e = expected.argmax(-1).flatten().data<long>().ToArray();
            var a = actual.argmax(-1).flatten().data<long>().ToArray();
            for (int i = 0; i < e.Length; i++) if (a[i] == e[i]) agree++;
            predictions += e.Length;
            classifier &= expected.dim() == 2;
            if (!classifier || batch.Labels is not { } labelTensor) continue;
            var labels = labelTensor.cpu().data<long>().ToArray();
            labelled += labels.Length;
            for (int i = 0; i < labels.Length; i++)
            {
                if (a[i] == labels[i]) ortRight++;
                if (e[i] == labels[i]) distillRight++;
            }
        }
        bool accuracy = classifier && labelled == data.Count && labelled > 0;
        return (accuracy ? (double)ortRight / labelled : null, accuracy ? (double)distillRight / labelled : null, (double)agree / Math.Max(1, predictions), maxDiff);
    }

    private static LatencyPair Time(DistillModel model, OnnxRuntimeModel ort, Batch batch, OnnxRunExportOptions options)
    {
        int previous = torch.get_num_threads();
        var onDevice = batch.To(DeviceOf(model));
        try
        {
            torch.set_num_threads(options.Threads);
            using var inference = torch.inference_mode();
            return LatencyPair.Measure(
                () => ort.Run(batch).Dispose(),
                () =>
                {
                    using var scope = NewDisposeScope();
                    model.call(onDevice);
                },
                options.WarmupRuns, options.TimedRuns);
        }
        finally
        {
            torch.set_num_threads(previous);
        }
    }

    private static Device DeviceOf(DistillModel model) => model.parameters().FirstOrDefault()?.device ?? CPU;
}
