using System.Text.Json.Serialization;

namespace Distill.Onnx.Runtime;

/// <summary>The proof report's account of the lookup tables an int8 export quantized itself (see <see cref="OnnxExportReport.QuantizedEmbeddings"/>).</summary>
public sealed record EmbeddingQuantizationReport
{
    /// <summary>The grid, e.g. <c>8-bit per-row asymmetric (uint8), at export</c>.</summary>
    [JsonPropertyName("scheme")] public required string Scheme { get; init; }

    /// <summary>Bytes of those tables as float32 and as codes plus per-row scale and zero point.</summary>
    [JsonPropertyName("fp32_bytes")] public required long Fp32Bytes { get; init; }

    [JsonPropertyName("int8_bytes")] public required long Int8Bytes { get; init; }

    /// <summary>Largest |dequantized − float| over every entry of the tables.</summary>
    [JsonPropertyName("max_abs_error")] public required double MaxAbsError { get; init; }
}
