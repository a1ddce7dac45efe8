namespace Distill.Compression.Quantization;

/// <summary>The quantization range of the input of one module: asymmetric per-tensor, <see cref="Bits"/> bits over
/// [<see cref="Min"/>, <see cref="Max"/>] (which always contains 0).</summary>
public sealed record ActivationRange(string Module, int Bits, float Min, float Max)
{
    /// <summary>Scale and zero point of the range: scale = (max − min)/(2^bits − 1), zero point = round(−min/scale).</summary>
    public (float Scale, int ZeroPoint) Grid()
    {
        int levels = (1 << Bits) - 1;
        float min = Math.Min(Min, 0), max = Math.Max(Max, 0);
        float scale = max > min ? (max - min) / levels : 1f;
        return (scale, Math.Clamp((int)MathF.Round(-min / scale, MidpointRounding.ToEven), 0, levels));
    }
}
