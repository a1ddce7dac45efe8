using Distill.Schema;

namespace Distill.Vision;

/// <summary>
/// Pillow's (PIL ≥ 7) convolution resampling of 8-bit images, re-implemented from its documented algorithm so that
/// resized pixels can match <c>Image.resize(size, BILINEAR | BICUBIC)</c>, which HF image processors call:
/// <list type="bullet">
/// <item>separable: a horizontal pass, then a vertical pass, each only when that side changes, with an 8-bit rounded
/// and clipped intermediate image;</item>
/// <item>for each output pixel, the filter (triangle with support 1 for bilinear; Keys cubic a = −0.5 with support 2 for
/// bicubic) is centred at (x + 0.5)·scale and widened by the scale when shrinking (antialiasing); weights are normalised
/// to sum 1, then quantised to 22-bit fixed point (round half away from zero);</item>
/// <item>accumulation in 32-bit integers starting at ½ (rounding), then >> 22 and clipped to 0..255.</item>
/// </list>
/// When the size does not change, the image is returned unchanged (Pillow returns a copy), and at scale 1 the filters are
/// the identity anyway. Only the identity is checked against reference data (the CIFAR-10 reference images are already
/// 32×32); other sizes follow the algorithm above and were not compared with Pillow's output here.
/// </summary>
internal static class PillowResize
{
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Resizes an H×W×C (channels last) uint8 image to outH×outW with PIL filter <paramref name="resample"/> (2 or 3).</summary>
    /// <param name="runBothPasses">Run both passes even for unchanged sides (Pillow skips them); for tests of the kernels.</param>
    public static byte[] Resize(ReadOnlySpan<byte> hwc, int height, int width, int channels, int outHeight, int outWidth, int resample,
        bool runBothPasses = false)
    {
        Func<double, double> filter;
        double support;
        switch (resample)
        {
            case 2: filter = Bilinear; support = 1.0; break;
            case 3: filter = Bicubic; support = 2.0; break;
            default: throw new ArgumentException($"PIL resample filter {resample} is not supported; use 2 (bilinear) or 3 (bicubic).");
        }
        byte[] current = hwc.ToArray();
        int curW = width;
        if (outWidth != width || runBothPasses)
        {
            var (bounds, kk, ksize) = Coefficients(width, outWidth, filter, support);
            var next = new byte[height * outWidth * channels];
            for (int y = 0; y < height; y++)
                for (int xx = 0; xx < outWidth; xx++)
                {
                    int xmin = bounds[2 * xx], count = bounds[2 * xx + 1];
                    for (int c = 0; c < channels; c++)
                    {
                        int ss = 1 << (PrecisionBits - 1);
                        for (int x = 0; x < count; x++)
                            ss += current[(y * width + xmin + x) * channels + c] * kk[xx * ksize + x];
                        next[(y * outWidth + xx) * channels + c] = Clip8(ss);
                    }
                }
            current = next;
            curW = outWidth;
        }
        if (outHeight != height || runBothPasses)
        {
            var (bounds, kk, ksize) = Coefficients(height, outHeight, filter, support);
            var next = new byte[outHeight * curW * channels];
            for (int yy = 0; yy < outHeight; yy++)
            {
                int ymin = bounds[2 * yy], count = bounds[2 * yy + 1];
                for (int x = 0; x < curW; x++)
                    for (int c = 0; c < channels; c++)
                    {
                        int ss = 1 << (PrecisionBits - 1);
                        for (int y = 0; y < count; y++)
                            ss += current[((ymin + y) * curW + x) * channels + c] * kk[yy * ksize + y];
                        next[(yy * curW + x) * channels + c] = Clip8(ss);
                    }
            }
            current = next;
        }
        return current;
    }

    private static byte Clip8(int v) => v <= 0 ? (byte)0 : v >= 256 << PrecisionBits ? (byte)255 : (byte)(v >> PrecisionBits);

    private static double Bilinear(double x)
    {
        if (x < 0) x = -x;
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private static double Bicubic(double x)
    {
        const double a = -0.5;
        if (x < 0) x = -x;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    /// <summary>Per output index: (first input index, tap count) in <c>bounds</c>, and fixed-point weights, ksize per row.</summary>
    private static (int[] Bounds, int[] Weights, int KSize) Coefficients(int inSize, int outSize, Func<double, double> filter, double filterSupport)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterSupport * filterScale;
        int ksize = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var kk = new int[outSize * ksize];
        var w = new double[ksize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            int xmin = (int)(center - support + 0.5); // C truncation toward zero, as Pillow
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            double total = 0;
            for (int x = 0; x < xmax; x++)
            {
                w[x] = filter((x + xmin - center + 0.5) * ss);
                total += w[x];
            }
            for (int x = 0; x < xmax; x++)
            {
                double k = total != 0.0 ? w[x] / total : w[x];
                kk[xx * ksize + x] = k < 0
                    ? (int)(-0.5 + k * (1 << PrecisionBits))
                    : (int)(0.5 + k * (1 << PrecisionBits));
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return (bounds, kk, ksize);
    }
}
