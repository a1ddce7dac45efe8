using Distill.Models;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using static TorchSharp.torch;

namespace Distill.Onnx.Runtime;

/// <summary>
/// An exported graph loaded in ONNX Runtime (CPU), fed with Distill batches: each graph input is taken from the batch
/// by its HF name (int64 ids and masks, float32 values), and <c>logits</c> comes back as a tensor.
/// </summary>
public sealed class OnnxRuntimeModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();

    /// <param name="path">The .onnx file.</param>
    /// <param name="threads">Intra-op threads (0 lets ONNX Runtime choose).</param>
    public OnnxRuntimeModel(string path, int threads = 0) : this(File.ReadAllBytes(path), threads) { }

    public OnnxRuntimeModel(byte[] onnx, int threads = 0)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        _session = new InferenceSession(onnx, options);
        Inputs = _session.InputMetadata.Keys.ToList();
    }

    /// <summary>The graph's input names.</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>Runs the graph on <paramref name="batch"/>; <c>logits</c> as a CPU float32 tensor.</summary>
    public Tensor Run(Batch batch)
    {
        var values = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        try
        {
            foreach (string name in Inputs)
            {
                var t = batch.Optional(name) ?? throw new ArgumentException(
                    $"The ONNX graph needs input '{name}' but the batch has only {string.Join(", ", batch.Inputs.Keys)}.");
                values[name] = ToOrt(name, t.detach().cpu());
            }
            using var results = _session.Run(_run, values, ["logits"]);
            var r = results[0];
            long[] shape = r.GetTensorTypeAndShape().Shape;
            return tensor(r.GetTensorDataAsSpan<float>().ToArray(), shape);
        }
        finally
        {
            foreach (var v in values.Values) v.Dispose();
        }
    }

    private OrtValue ToOrt(string name, Tensor t)
    {
        var meta = _session.InputMetadata[name];
        long[] shape = t.shape;
        if (meta.ElementDataType == TensorElementType.Int64)
            return OrtValue.CreateTensorValueFromMemory(t.to(ScalarType.Int64).contiguous().data<long>().ToArray(), shape);
        if (meta.ElementDataType == TensorElementType.Float)
            return OrtValue.CreateTensorValueFromMemory(t.to(ScalarType.Float32).contiguous().data<float>().ToArray(), shape);
        throw new ArgumentException($"ONNX input '{name}' has element type {meta.ElementDataType}; only int64 and float32 inputs are fed.");
    }

    public void Dispose()
    {
        _run.Dispose();
        _session.Dispose();
    }
}
