namespace Distill.Compression.Artifact;

/// <summary>
/// Uniform (linear) quantization of one tensor: value = scale_c · (code − zero_point_c) with codes in
/// [0, 2^bits − 1]; c is the output channel (index along dimension 0) when <see cref="PerChannel"/>, else 0. A symmetric
/// grid has zero_point = 2^(bits−1) for every channel and uses codes 1 … 2^bits − 1 (the restricted range
/// ±(2^(bits−1) − 1), so that +0 and −0 of a symmetric range map to one code and 0 is exact).
/// </summary>
/// <param name="Scales">One scale per channel (or one).</param>
/// <param name="ZeroPoints">One zero point per channel (or one); all 2^(bits−1) when symmetric.</param>
public sealed record LinearQuantParams(int Bits, bool PerChannel, bool Symmetric, float[] Scales, int[] ZeroPoints)
{
    public int MaxCode => (1 << Bits) - 1;

    /// <summary>The value of <paramref name="code"/> in channel <paramref name="channel"/>: float32 arithmetic, the
    /// same expression the fake-quantizer folds weights with, so artifact decoding is bit-exact.</summary>
    public float Dequantize(int code, int channel) => Scales[channel] * (float)(code - ZeroPoints[channel]);

    /// <summary>The nearest code of <paramref name="value"/> in channel <paramref name="channel"/>, clamped to the grid.</summary>
    public int Quantize(float value, int channel)
    {
        float scale = Scales[channel];
        int code = scale > 0 ? (int)MathF.Round(value / scale, MidpointRounding.ToEven) + ZeroPoints[channel] : ZeroPoints[channel];
        int min = Symmetric ? 1 : 0;
        return Math.Clamp(code, min, MaxCode);
    }
}
