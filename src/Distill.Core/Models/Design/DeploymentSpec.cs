using Distill.Schema;

namespace Distill.Models.Design;

/// <summary>
/// <c>deployment:</c> of a <c>design</c> stage: the shape and place the student will serve in, which is what latency is
/// measured at. Omitted lengths come from the recipe: <c>sequence_length</c> from <c>data.max_length</c>, image size
/// from the student config. Audio needs <c>audio_length</c> (samples), since clips vary in length.
/// </summary>
public sealed record DeploymentSpec
{
    [Bounds(1, 65536)] public int BatchSize { get; init; } = 1;

    /// <summary>Text: tokens per example (default: <c>data.max_length</c>).</summary>
    [Bounds(1, 1_000_000)] public int? SequenceLength { get; init; }

    /// <summary>Images: must equal the student config's <c>image_size</c> (the model is built for one size); given here to state it.</summary>
    [Bounds(1, 100_000)] public int? ImageSize { get; init; }

    /// <summary>Audio: samples per clip (16,000 = 1 s at 16 kHz).</summary>
    [Bounds(1, 100_000_000)] public int? AudioLength { get; init; }

    /// <summary>Intra-op threads while timing; null = torch's current setting. Part of the profile's device fingerprint.</summary>
    [Bounds(1, 1024)] public int? Threads { get; init; }

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; null = <c>train.device</c>.</summary>
    public string? Device { get; init; }

    /// <summary><c>torchsharp</c> (default) or <c>onnxruntime</c>: the runtime the candidates are timed in (ONNX Runtime on the CPU).</summary>
    public DeploymentRuntime Runtime { get; init; } = DeploymentRuntime.Torchsharp;

    /// <summary><c>fp32</c> (default) or <c>int8</c>: the graphs timed when <c>runtime: onnxruntime</c>.</summary>
    public OnnxPrecision OnnxPrecision { get; init; } = OnnxPrecision.Fp32;
}
