namespace Distill.Compression.Artifact;

/// <summary>
/// How one tensor is encoded in an artifact, decided before anything is written, with the exact number of bytes its
/// record will take (<see cref="PredictedBytes"/>). Built by <see cref="ArtifactEncoder.Plan"/>.
/// </summary>
public sealed class TensorPlan
{
    public required string Name { get; init; }
    public required long[] Shape { get; init; }
    public required ValueKind Values { get; init; }
    public required PositionKind Positions { get; init; }

    /// <summary>Values stored (all positions, or the located ones).</summary>
    public required long StoredCount { get; init; }

    /// <summary>Non-zero entries of the tensor.</summary>
    public required long Nonzeros { get; init; }

    /// <summary>Width of the value codes (Linear, Codebook); 0 otherwise.</summary>
    public int Bits { get; init; }

    public float[]? Codebook { get; init; }

    /// <summary>BLOOMIER values: the filter and codebook written (null for other kinds).</summary>
    public BloomierTensor? Bloomier { get; init; }
    public LinearQuantParams? Linear { get; init; }

    /// <summary>Relative indexing: bits per gap entry and the number of entries (gaps plus skips).</summary>
    public int IndexBits { get; init; }
    public long IndexEntries { get; init; }

    /// <summary>N:M pattern of the positions (kinds NM and NMCombination).</summary>
    public int N { get; init; }
    public int M { get; init; }

    /// <summary>Huffman code lengths of the value-code stream and of the position stream; null when written at fixed width.</summary>
    public int[]? ValueHuffman { get; init; }
    public int[]? PositionHuffman { get; init; }

    /// <summary>Exact size of this tensor's record in bytes.</summary>
    public required long PredictedBytes { get; init; }

    /// <summary>Bytes of the record's front-coded name (they depend on the previous record's name, not on the encoding).</summary>
    public long NameBytes { get; init; }

    /// <summary>Bytes of the record without its name: what the choice of encoding decides.</summary>
    public long EncodingBytes => PredictedBytes - NameBytes;

    /// <summary>LINEAR: the distinct per-channel scales when they are stored as a codebook (null: one float32 per channel).</summary>
    public float[]? ScaleCodebook { get; init; }

    /// <summary>LINEAR with exponent-coded scales: steps per octave (0: not exponent-coded) and the smallest exponent;
    /// channel c's scale is 2^((ScaleExponentBase + code[c]) / ScaleSteps).</summary>
    public int ScaleSteps { get; init; }
    public int ScaleExponentBase { get; init; }

    /// <summary>AFFINE values: value = AffineOffset + AffineStep · code.</summary>
    public float AffineOffset { get; init; }
    public float AffineStep { get; init; }

    /// <summary>Width of the scale codes (scale codebook or exponents).</summary>
    public int ScaleBits { get; init; }

    /// <summary>Huffman code lengths of the scale codes; null when fixed width.</summary>
    public int[]? ScaleHuffman { get; init; }

    /// <summary>Largest |decoded − original| over the tensor (0 for lossless encodings).</summary>
    public double MaxAbsError { get; init; }

    /// <summary>Bits per element of the tensor (record bits / numel).</summary>
    public double BitsPerElement => PredictedBytes * 8.0 / Math.Max(1, Shape.Aggregate(1L, (a, b) => a * b));

    internal float[]? RawFloats { get; init; }
    internal long[]? RawLongs { get; init; }
    internal int[]? ValueCodes { get; init; }
    internal int[]? PositionCodes { get; init; }
    internal int[]? ScaleCodes { get; init; }

    /// <summary>Width of the position codes (index bits, ceil(log2 M), or ceil(log2 C(M, N))); 0 for all positions.</summary>
    internal int PositionBits { get; init; }

    /// <summary>One line for logs: "layers.0.weight: codebook 5b, relative 4b (huffman), 12345 B".</summary>
    public string Describe() => Bloomier is { } b
        ? $"{Name}: bloomier {b.Filter.ValueBits}b x {b.Filter.Cells} cells, {b.Codebook.Length} centroids, {PredictedBytes} B"
        : $"{Name}: {Values.ToString().ToLowerInvariant()}{(Bits > 0 ? $" {Bits}b" : "")}{(ValueHuffman is not null ? " huffman" : "")}, " +
        $"{PositionName}{(Positions == PositionKind.Relative ? $" {IndexBits}b" : Positions is PositionKind.NM or PositionKind.NMCombination ? $" {N}:{M}" : "")}" +
        $"{(PositionHuffman is not null ? " huffman" : "")}{(ScaleCodebook is not null ? $", {ScaleCodebook.Length} scales" : "")}" +
        $"{(ScaleSteps > 0 ? $", {ScaleBits}-bit scale exponents" : "")}, {PredictedBytes} B";

    /// <summary>The position kind as the report writes it: all, relative, nm, nm-combination.</summary>
    public string PositionName => Positions == PositionKind.NMCombination ? "nm-combination" : Positions.ToString().ToLowerInvariant();
}
