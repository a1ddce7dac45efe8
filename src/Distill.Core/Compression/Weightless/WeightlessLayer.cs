using Distill.Compression.Artifact;

namespace Distill.Compression.Weightless;

/// <summary>One weight as <see cref="WeightlessEncoder.Encode"/> left it: its table and what the table costs and changes.</summary>
/// <param name="Nonzeros">Non-zeros stored (the keys of the filter).</param>
/// <param name="FalsePositives">Pruned positions that decode to a centroid, now part of the frozen weight.</param>
/// <param name="PrunedPositions">Positions that were zero before encoding.</param>
/// <param name="RecordBytes">Bytes of the weight's BLOOMIER params, codebook and cells (the record without name, shape, kinds and flags).</param>
/// <param name="DecodeMs">Measured time to decode the table into the dense weight (one pass, on this machine).</param>
public sealed record WeightlessLayer(string Name, long[] Shape, BloomierTensor Table, long Nonzeros, long PrunedPositions,
    long FalsePositives, long RecordBytes, double DecodeMs)
{
    public int Bits => Table.Filter.ValueBits;
    public int Cells => Table.Filter.Cells;
    public int Codes => Table.Codebook.Length;

    /// <summary>Expected false-positive rate on a pruned position: codes / 2^t.</summary>
    public double ExpectedFalsePositiveRate => Codes / Math.Pow(2, Bits);

    public double FalsePositiveRate => PrunedPositions == 0 ? 0 : (double)FalsePositives / PrunedPositions;
}
