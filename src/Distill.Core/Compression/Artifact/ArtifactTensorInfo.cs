namespace Distill.Compression.Artifact;

/// <summary>What the reader found for one tensor record: its encoding and its size in the file.</summary>
public sealed record ArtifactTensorInfo(string Name, long[] Shape, ValueKind Values, PositionKind Positions, int Bits,
    bool HuffmanValues, bool HuffmanPositions, long StoredCount, long Bytes);
