namespace Distill.Onnx.Export;

/// <summary>What <see cref="OnnxExporter.Export"/> wrote.</summary>
/// <param name="Path">The .onnx file.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Parameters">Elements of the model's exported weights.</param>
/// <param name="NonZeros">Of those, the non-zero ones (pruning shows here, not in the file's dense tensors).</param>
/// <param name="Opset">The ONNX opset of the graph.</param>
/// <param name="Inputs">Graph inputs by HF name.</param>
/// <param name="Outputs">Graph outputs (<c>logits</c>).</param>
/// <param name="QuantizedWeights">Weights stored as integer codes (0 for fp32).</param>
/// <param name="QuantizedActivations">Module inputs with a quantize/dequantize pair.</param>
/// <param name="QuantizedEmbeddings">Lookup tables quantized per row at export (no stage quantized them).</param>
public sealed record OnnxExportResult(
    string Path, long Bytes, long Parameters, long NonZeros, int Opset,
    IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, int QuantizedWeights, int QuantizedActivations, int QuantizedEmbeddings = 0);
