using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Onnx.Runtime;

/// <summary>
/// The proof report written beside an export as <c>&lt;out&gt;.report.json</c>: what the file holds, what ONNX Runtime
/// computes with it (its largest difference from Distill's forward on the timing batch, its accuracy on the run's
/// evaluation split beside Distill's), and how long one pass takes in ONNX Runtime and in TorchSharp eager at the given
/// batch size and thread count on this machine.
/// </summary>
public sealed record OnnxExportReport
{
    [JsonPropertyName("file")] public required string File { get; init; }
    [JsonPropertyName("family")] public required string Family { get; init; }
    [JsonPropertyName("precision")] public required string Precision { get; init; }
    [JsonPropertyName("file_bytes")] public required long FileBytes { get; init; }
    /// <summary>The same model's fp32 graph size, for int8 exports (the ratio the int8 file achieves).</summary>
    [JsonPropertyName("fp32_file_bytes")] public long? Fp32FileBytes { get; init; }
    [JsonPropertyName("parameters")] public required long Parameters { get; init; }
    [JsonPropertyName("non_zeros")] public required long NonZeros { get; init; }
    [JsonPropertyName("opset")] public required int Opset { get; init; }
    [JsonPropertyName("inputs")] public required IReadOnlyList<string> Inputs { get; init; }
    [JsonPropertyName("outputs")] public required IReadOnlyList<string> Outputs { get; init; }
    [JsonPropertyName("quantized_weights")] public int QuantizedWeights { get; init; }
    [JsonPropertyName("quantized_activations")] public int QuantizedActivations { get; init; }
    /// <summary>Lookup tables stored as per-row 8-bit codes although no stage quantized them (int8 exports).</summary>
    [JsonPropertyName("quantized_embeddings")] public IReadOnlyList<string> QuantizedEmbeddings { get; init; } = [];
    /// <summary>How those tables were quantized, with the largest rounding error of a looked-up value; null without any.</summary>
    [JsonPropertyName("embedding_quantization")] public EmbeddingQuantizationReport? EmbeddingQuantization { get; init; }
    [JsonPropertyName("batch_size")] public required int BatchSize { get; init; }
    [JsonPropertyName("threads")] public required int Threads { get; init; }
    /// <summary>Max |ORT − Distill| over the timing batch's logits (Distill: the fake-quant model for int8).</summary>
    [JsonPropertyName("max_abs_diff_logits")] public required double MaxAbsDiffLogits { get; init; }
    [JsonPropertyName("latency")] public LatencyPair? Latency { get; init; }
    [JsonPropertyName("eval_split")] public string? EvalSplit { get; init; }
    [JsonPropertyName("eval_examples")] public int? EvalExamples { get; init; }
    [JsonPropertyName("ort_accuracy")] public double? OrtAccuracy { get; init; }
    [JsonPropertyName("distill_accuracy")] public double? DistillAccuracy { get; init; }
    /// <summary>Share of evaluation examples on which ORT's argmax equals Distill's.</summary>
    [JsonPropertyName("argmax_agreement")] public double? ArgmaxAgreement { get; init; }
    [JsonPropertyName("load_average")] public double? LoadAverage { get; init; }
    [JsonPropertyName("notes")] public IReadOnlyList<string> Notes { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The report's path for an export to <paramref name="onnxPath"/>.</summary>
    public static string PathFor(string onnxPath) => onnxPath + ".report.json";

    /// <summary>Writes the report to a temporary file renamed into place.</summary>
    public void Write(string path)
    {
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            System.IO.File.WriteAllText(temp, JsonSerializer.Serialize(this, Json));
            System.IO.File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (System.IO.File.Exists(temp)) System.IO.File.Delete(temp);
        }
    }

    public static OnnxExportReport Read(string path) =>
        JsonSerializer.Deserialize<OnnxExportReport>(System.IO.File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty report.");

    /// <summary>The table printed at the end of an export: one row per quantity.</summary>
    public string Table()
    {
        var rows = new List<(string, string)>
        {
            ("file", $"{File} ({Precision}, opset {Opset})"),
            ("bytes", FileBytes.ToString("N0", CultureInfo.InvariantCulture) + (Fp32FileBytes is { } fp ? $" (fp32: {fp.ToString("N0", CultureInfo.InvariantCulture)}, ×{(double)fp / FileBytes:F2} smaller)" : "")),
            ("quantized", $"{QuantizedWeights} weights, {QuantizedActivations} activation grids, {QuantizedEmbeddings.Count} embedding tables" +
                          (EmbeddingQuantization is { } eq ? $" ({eq.Scheme}, max |error| {eq.MaxAbsError.ToString("G3", CultureInfo.InvariantCulture)})" : "")),
            ("parameters", $"{Parameters.ToString("N0", CultureInfo.InvariantCulture)} ({NonZeros.ToString("N0", CultureInfo.InvariantCulture)} non-zero)"),
            ("inputs → outputs", $"{string.Join(", ", Inputs)} → {string.Join(", ", Outputs)}"),
            ("max |ORT − Distill|", MaxAbsDiffLogits.ToString("G3", CultureInfo.InvariantCulture)),
        };
        if (Latency is { } l)
            rows.Add(($"latency, batch {BatchSize}, {Threads} thread(s)",
                $"ORT p50 {l.OrtP50Ms:F3} ms, p90 {l.OrtP90Ms:F3} ms; TorchSharp p50 {l.TorchP50Ms:F3} ms, p90 {l.TorchP90Ms:F3} ms ({l.TimedRuns} runs)"));
        if (OrtAccuracy is { } a)
            rows.Add(($"accuracy on {EvalSplit} ({EvalExamples})", $"ORT {a:P2}, Distill {DistillAccuracy:P2}, argmax agreement {ArgmaxAgreement:P2}"));
        else if (ArgmaxAgreement is { } agreement)
            rows.Add(($"argmax agreement on {EvalSplit} ({EvalExamples})", $"{agreement:P2} (per-frame logits or unlabelled data: no accuracy)"));
        int w = rows.Max(r => r.Item1.Length);
        var sb = new StringBuilder();
        foreach (var (k, v) in rows) sb.Append(CultureInfo.InvariantCulture, $"  {k.PadRight(w)}  {v}\n");
        foreach (var n in Notes) sb.Append(CultureInfo.InvariantCulture, $"  note: {n}\n");
        return sb.ToString();
    }
}
