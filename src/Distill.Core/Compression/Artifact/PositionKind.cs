namespace Distill.Compression.Artifact;

/// <summary>Which positions of a tensor have stored values (docs/artifact-format.md, "positions_kind").</summary>
public enum PositionKind : byte
{
    /// <summary>Every position, row-major: no position data.</summary>
    All = 0,

    /// <summary>Non-zeros only, located by gaps of <c>index_bits</c> bits; code 0 skips 2^index_bits − 1 positions
    /// without a value (the padding entry of Deep Compression's relative indexing).</summary>
    Relative = 1,

    /// <summary>N values in every group of M consecutive positions of a row, located by ceil(log2 M)-bit offsets.</summary>
    NM = 2,

    /// <summary>N values in every group of M consecutive positions of a row, located by one code per group: the rank of
    /// the group's offset set among all C(M, N) sets (<see cref="NmCombination"/>).</summary>
    NMCombination = 3,
}
