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
    /// <param name="floatWeightOnlyMatMul">See <see cref="OnnxRuntimeModel(byte[], int, bool)"/>.</param>
    public OnnxRuntimeModel(string path, int threads = 0, bool floatWeightOnlyMatMul = false) : this(File.ReadAllBytes(path), threads, floatWeightOnlyMatMul) { }

    /// <param name="onnx">The serialised graph.</param>
    /// <param name="threads">Intra-op threads (0 lets ONNX Runtime choose).</param>
    /// <param name="floatWeightOnlyMatMul">ONNX Runtime (1.32) fuses a weight-only <c>DequantizeLinear → MatMul</c> into
    /// <c>MatMulNBits</c> and by default computes it with int8 activations quantized on the fly
    /// (<c>session.qdq_matmulnbits_accuracy_level</c> 4), which is faster but no longer the fake-quant model's arithmetic.
    /// True sets the level to 1 (float compute on the 8-bit weights): the graph then computes exactly what Distill's
    /// fake-quant model computes. False keeps ONNX Runtime's default, what a deployment gets.</param>
    public OnnxRuntimeModel(byte[] onnx, int threads = 0, bool floatWeightOnlyMatMul = false)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        if (floatWeightOnlyMatMul) options.AddSessionConfigEntry("session.qdq_matmulnbits_accuracy_level", "1");
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
