namespace Distill.Compression.Quantization;

/// <summary>A uniform weight quantization scheme: bit width, one scale per output channel or per tensor, symmetric
/// (zero point fixed at the middle, restricted range ±(2^(bits−1) − 1)) or asymmetric (min/max with a zero point), and
/// optionally compact scales: each scale rounded up to the next power of 2^(1/<see cref="ScaleStepsPerOctave"/>), so
/// per-channel scales repeat and the artifact stores them as a small codebook plus a few bits per channel instead of a
/// float32 each (for a 4-bit row of 64 weights that overhead drops from 0.5 to under 0.1 bit per weight). Rounding up
/// keeps every weight inside the grid; the step grows by at most 2^(1/16) − 1 ≈ 4.4 %.</summary>
public sealed record QuantScheme(int Bits, bool PerChannel = true, bool Symmetric = true, bool CompactScales = false)
{
    /// <summary>Compact scales are powers of 2^(1/16).</summary>
    public const int ScaleStepsPerOctave = 16;

    /// <summary>float32(2^(k / steps)): the one expression by which compact scales are made
    /// (<see cref="WeightQuantizer.CompactScale"/>) and rebuilt from their exponents in the artifact, so both agree bit
    /// for bit.</summary>
    public static float ExponentScale(int k, int steps = ScaleStepsPerOctave) => (float)Math.Pow(2, k / (double)steps);

    public override string ToString() =>
        $"{Bits}-bit {(PerChannel ? "per-channel" : "per-tensor")} {(Symmetric ? "symmetric" : "asymmetric")}{(CompactScales ? ", compact scales" : "")}";
}
