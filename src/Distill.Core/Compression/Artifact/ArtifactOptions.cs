namespace Distill.Compression.Artifact;

/// <summary>Choices of the artifact encoder. Every choice it makes under these options is the one of smallest size.</summary>
public sealed record ArtifactOptions
{
    /// <summary>Allow canonical Huffman coding of code streams of at most 8 bits (used only where it is smaller).</summary>
    public bool Huffman { get; init; } = true;

    /// <summary>Store float values that have no codebook or linear grid as float16 instead of float32 (lossy).</summary>
    public bool Float16 { get; init; }

    /// <summary>Store a tensor whose stored values take at most <see cref="MaxCodebookSize"/> distinct values as a
    /// codebook plus indices (lossless; this is how weight sharing from k-means is stored).</summary>
    public bool Codebooks { get; init; } = true;

    /// <summary>Largest codebook (2^8: indices of at most 8 bits).</summary>
    public int MaxCodebookSize { get; init; } = 256;

    /// <summary>Allow sparse position encodings (relative indices, N:M) where they are smaller.</summary>
    public bool Sparse { get; init; } = true;

    /// <summary>Linear quantization grids of tensors by name (written by the quantize stage); values are stored as codes on them.</summary>
    public IReadOnlyDictionary<string, LinearQuantParams> Linear { get; init; } = new Dictionary<string, LinearQuantParams>();
}
