using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace Distill.Onnx.Runtime;

/// <summary>
/// <c>distill bench --deploy</c>: re-times any ONNX graph with HF-named inputs in ONNX Runtime on synthetic inputs of
/// a given batch size, sequence length and audio length (the values do not change the work: ids 1, masks 1, segment
/// ids 0, pixels and samples 0.5), p50 / p90 of single runs after warm-up.
/// </summary>
public static class OnnxDeployBench
{
    /// <summary>The result: the input shapes used and the latency percentiles.</summary>
    public sealed record Result(IReadOnlyDictionary<string, long[]> Shapes, double P50Ms, double P90Ms, int Runs, int Warmup, int Threads)
    {
        public override string ToString() =>
            $"{string.Join(", ", Shapes.Select(s => $"{s.Key} [{string.Join(", ", s.Value)}]"))}: ORT p50 {P50Ms.ToString("F3", CultureInfo.InvariantCulture)} ms, " +
            $"p90 {P90Ms.ToString("F3", CultureInfo.InvariantCulture)} ms ({Runs} runs after {Warmup} warm-up, {Threads} thread(s))";
    }

    public static Result Time(string path, int batch, int sequence, int samples, int threads, int warmup = 5, int runs = 30)
    {
        if (!File.Exists(path)) throw new InvalidInputException(path, $"{path}: no such ONNX file.");
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        InferenceSession session;
        try { session = new InferenceSession(path, options); }
        catch (OnnxRuntimeException e) { throw new InvalidInputException(path, $"{path}: ONNX Runtime cannot load it: {e.Message}", e); }
        using var _ = session;
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var values = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, meta) in session.InputMetadata)
            {
                if (meta.Dimensions.Length == 0)
                    throw new InvalidInputException(path, $"{path}: input '{name}' has no fixed rank (an mlp graph takes any flattenable shape); time it through 'distill export --format onnx' with the run's data.");
                var shape = meta.Dimensions.Select((d, i) => d > 0 ? d : i == 0 ? batch : name == "input_values" || meta.SymbolicDimensions[i] == "samples" ? samples : sequence).Select(d => (long)d).ToArray();
                long count = shape.Aggregate(1L, (a, d) => a * d);
                shapes[name] = shape;
                values[name] = meta.ElementDataType switch
                {
                    TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(name == "token_type_ids" ? 0L : 1L, (int)count).ToArray(), shape),
                    TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(0.5f, (int)count).ToArray(), shape),
                    _ => throw new InvalidInputException(path, $"{path}: input '{name}' is {meta.ElementDataType}; only int64 and float32 inputs are fed."),
                };
            }
            string[] outputs = [session.OutputMetadata.Keys.First()];
            using var run = new RunOptions();
            for (int i = 0; i < warmup; i++) session.Run(run, values, outputs).Dispose();
            var samplesMs = new double[runs];
            for (int r = 0; r < runs; r++)
            {
                long start = Stopwatch.GetTimestamp();
                session.Run(run, values, outputs).Dispose();
                samplesMs[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            return new Result(shapes, LatencyPair.Percentile(samplesMs, 0.5), LatencyPair.Percentile(samplesMs, 0.9), runs, warmup, threads);
        }
        finally
        {
            foreach (var v in values.Values) v.Dispose();
        }
    }
}
