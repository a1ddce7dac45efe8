namespace Distill.Compression.Artifact;

/// <summary>How a tensor's stored values are written (docs/artifact-format.md, "values_kind").</summary>
public enum ValueKind : byte
{
    /// <summary>IEEE float32, little-endian.</summary>
    F32 = 0,

    /// <summary>IEEE float16, little-endian (lossy for float32 weights).</summary>
    F16 = 1,

    /// <summary>Integer codes of <c>bits</c> bits; value = scale_c · (code − zero_point_c) per tensor or per output channel.</summary>
    Linear = 2,

    /// <summary>Indices of <c>bits</c> bits into a float32 codebook (shared weights, Deep Compression).</summary>
    Codebook = 3,

    /// <summary>int64, little-endian (integer buffers such as BatchNorm's num_batches_tracked).</summary>
    I64 = 4,

    /// <summary>Integer codes of <c>bits</c> bits on a per-tensor affine grid: value = offset + step · code (format version 3;
    /// the export option <c>float_bits</c> stores biases, norms and embeddings this way instead of as floats — lossy).</summary>
    Affine = 5,

    /// <summary>A Bloomier filter of t-bit cells plus a float32 codebook, at all positions (format version 4, Weightless):
    /// a position's code is the XOR of its 3 hashed cells and its hashed mask; codes below the codebook's size are
    /// centroids, the others zero. Lossy: pruned positions can decode to a centroid (false positives).</summary>
    Bloomier = 6,
}
