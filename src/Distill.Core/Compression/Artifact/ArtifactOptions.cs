namespace Distill.Compression.Artifact;

/// <summary>Choices of the artifact encoder. Every choice it makes under these options is the one of smallest size.</summary>
public sealed record ArtifactOptions
{
    /// <summary>Allow canonical Huffman coding of code streams of at most 8 bits (used only where it is smaller).</summary>
    public bool Huffman { get; init; } = true;

    /// <summary>Store float values that have no codebook or linear grid as float16 instead of float32 (lossy).</summary>
    public bool Float16 { get; init; }

    /// <summary>Write each record's name and shape (layout 0). False (layout 1) leaves both out: the tensors must then be
    /// a model's whole state dict in its own order (<see cref="ModelArtifact.Plan"/>), which the reader rebuilds from the
    /// header's family and config; a hash of the names and shapes in the header catches a model that differs. For a
    /// small student the names are ~5 % of the file (wav2vec2: ~1.3 KB of names and dims for 74 tensors).</summary>
    public bool TensorNames { get; init; } = true;

    /// <summary>When set (2–16), also offer float values that have no linear grid an affine grid of that many bits over
    /// the tensor's own [min, max] (values_kind AFFINE: offset + step · code), used where it is the smallest encoding.
    /// Lossy: the error is at most step / 2 = (max − min) / (2 · (2^bits − 1)) plus float32 rounding. For a small
    /// student the biases and norms that stay float16 are a tenth of the artifact; at 8 bits they take half that.</summary>
    public int? FloatBits { get; init; }

    /// <summary>Store a tensor whose stored values take at most <see cref="MaxCodebookSize"/> distinct values as a
    /// codebook plus indices (lossless; this is how weight sharing from k-means is stored).</summary>
    public bool Codebooks { get; init; } = true;

    /// <summary>Largest codebook (2^8: indices of at most 8 bits).</summary>
    public int MaxCodebookSize { get; init; } = 256;

    /// <summary>Allow sparse position encodings (relative indices, N:M) where they are smaller.</summary>
    public bool Sparse { get; init; } = true;

    /// <summary>Linear quantization grids of tensors by name (written by the quantize stage); values are stored as codes on them.</summary>
    public IReadOnlyDictionary<string, LinearQuantParams> Linear { get; init; } = new Dictionary<string, LinearQuantParams>();

    /// <summary>Bloomier tables of tensors by name (written by the weightless stage). Each must decode to its tensor
    /// exactly; the record is used where it is the smallest encoding of the tensor.</summary>
    public IReadOnlyDictionary<string, BloomierTensor> Bloomier { get; init; } = new Dictionary<string, BloomierTensor>();
}
