namespace Distill.Compression.Quantization;

/// <summary>A uniform weight quantization scheme: bit width, one scale per output channel or per tensor, symmetric
/// (zero point fixed at the middle, restricted range ±(2^(bits−1) − 1)) or asymmetric (min/max with a zero point).</summary>
public sealed record QuantScheme(int Bits, bool PerChannel = true, bool Symmetric = true)
{
    public override string ToString() => $"{Bits}-bit {(PerChannel ? "per-channel" : "per-tensor")} {(Symmetric ? "symmetric" : "asymmetric")}";
}
