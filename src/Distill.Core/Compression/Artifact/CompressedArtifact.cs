using static TorchSharp.torch;

namespace Distill.Compression.Artifact;

/// <summary>An artifact decoded by <see cref="ArtifactReader"/>: the model description and every tensor, dense.</summary>
public sealed class CompressedArtifact : IDisposable
{
    public required string Path { get; init; }
    public required string Family { get; init; }
    public required string ConfigJson { get; init; }

    /// <summary>Activation quantization ranges; the loader simulates them on the rebuilt model.</summary>
    public IReadOnlyList<Quantization.ActivationRange> Activations { get; init; } = [];

    /// <summary>Decoded tensors by state-dict name (float32 or int64, dense, on the CPU).</summary>
    public required IReadOnlyDictionary<string, Tensor> Tensors { get; init; }

    public required IReadOnlyList<ArtifactTensorInfo> Records { get; init; }

    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}
