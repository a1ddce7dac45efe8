using Distill.Models;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using static TorchSharp.torch;

namespace Distill.Onnx.Runtime;

/// <summary>
/// An ONNX graph in an inference session with its inputs bound once (copied from a Distill batch into ORT values), so
/// that <see cref="Run"/> is one forward pass and nothing else: what the design stage times under
/// <c>runtime: onnxruntime</c>. Sequential execution, one inter-op thread, <c>threads</c> intra-op threads.
/// </summary>
public sealed class OnnxTimedSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run;
    private readonly Dictionary<string, OrtValue> _inputs = new(StringComparer.Ordinal);
    private readonly string[] _outputs = [];

    public OnnxTimedSession(byte[] onnx, Batch batch, int threads)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        _session = new InferenceSession(onnx, options);
        _run = new RunOptions(); // after the session: a graph that fails to load leaves no native RunOptions behind
        try
        {
            foreach (var (name, meta) in _session.InputMetadata)
            {
                var t = (batch.Optional(name) ?? throw new ArgumentException(
                    $"The ONNX graph needs input '{name}' but the batch has only {string.Join(", ", batch.Inputs.Keys)}.")).detach().cpu();
                _inputs[name] = meta.ElementDataType switch
                {
                    TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(t.to(ScalarType.Int64).contiguous().data<long>().ToArray(), t.shape),
                    TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(t.to(ScalarType.Float32).contiguous().data<float>().ToArray(), t.shape),
                    _ => throw new ArgumentException($"ONNX input '{name}' has element type {meta.ElementDataType}; only int64 and float32 inputs are fed."),
                };
            }
            _outputs = [.. _session.OutputMetadata.Keys.Take(1)];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>One forward pass (the outputs are discarded).</summary>
    public void Run() => _session.Run(_run, _inputs, _outputs).Dispose();

    public void Dispose()
    {
        foreach (var v in _inputs.Values) v.Dispose();
        _run.Dispose();
        _session.Dispose();
    }
}
