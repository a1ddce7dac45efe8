namespace Distill.Models.Design;

/// <summary>The resolved deployment shape latency is measured at (see <see cref="DeploymentSpec"/>).</summary>
public sealed record DeploymentShape(int BatchSize, int Threads, string Device)
{
    /// <summary>Text: tokens per example.</summary>
    public int? SequenceLength { get; init; }

    /// <summary>Images: square side in pixels.</summary>
    public int? ImageSize { get; init; }

    /// <summary>Audio: samples per clip.</summary>
    public int? AudioLength { get; init; }

    /// <summary>The runtime the candidates are timed in.</summary>
    public DeploymentRuntime Runtime { get; init; } = DeploymentRuntime.Torchsharp;

    /// <summary>The graphs' precision under ONNX Runtime.</summary>
    public OnnxPrecision OnnxPrecision { get; init; } = OnnxPrecision.Fp32;

    /// <summary><c>torchsharp</c>, <c>onnxruntime fp32</c> or <c>onnxruntime int8</c>: part of the profile cache key and fingerprint.</summary>
    public string RuntimeText => Runtime == DeploymentRuntime.Torchsharp ? "torchsharp" : $"onnxruntime {OnnxPrecision.ToString().ToLowerInvariant()}";

    public override string ToString()
    {
        string length = SequenceLength is { } t ? $", {t} tokens" : ImageSize is { } s ? $", {s}x{s} px" : AudioLength is { } a ? $", {a} samples" : "";
        string runtime = Runtime == DeploymentRuntime.Torchsharp ? "" : ", " + RuntimeText;
        return $"batch {BatchSize}{length}, {Device}, {Threads} thread{(Threads == 1 ? "" : "s")}{runtime}";
    }
}
