namespace Distill.Compression.Artifact;

/// <summary>A whole artifact as planned by <see cref="ArtifactEncoder.Plan"/>: the model description and every tensor's
/// encoding, with the exact file size (<see cref="PredictedBytes"/>) before a byte is written.</summary>
public sealed class ArtifactPlan
{
    public required string Family { get; init; }

    /// <summary>Format version the file is written at (<see cref="ArtifactEncoder.Version"/> when it has a BLOOMIER record, else 3).</summary>
    public byte Version { get; init; } = ArtifactEncoder.VersionWithoutBloomier;
    public required string ConfigJson { get; init; }

    /// <summary>How the config is stored: <see cref="ArtifactEncoder.ConfigRaw"/> or <see cref="ArtifactEncoder.ConfigDeflate"/>.</summary>
    public byte ConfigEncoding { get; init; }

    /// <summary>The config bytes as written (UTF-8 JSON, or its DEFLATE stream).</summary>
    internal byte[] ConfigPayload { get; init; } = [];

    /// <summary>Activation quantization ranges the loaded model simulates (empty for float activations).</summary>
    public IReadOnlyList<Quantization.ActivationRange> Activations { get; init; } = [];
    public required IReadOnlyList<TensorPlan> Tensors { get; init; }

    /// <summary>Layout 1: records carry no names or shapes; they are the family model's state dict in order, checked by
    /// <see cref="LayoutHash"/> (<see cref="ArtifactEncoder.HashLayout"/>).</summary>
    public bool ImplicitLayout { get; init; }
    public uint LayoutHash { get; init; }

    /// <summary>Bytes of the magic, version and header.</summary>
    public required long HeaderBytes { get; init; }

    public long PredictedBytes => HeaderBytes + Tensors.Sum(t => t.PredictedBytes);
}
