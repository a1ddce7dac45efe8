using Distill.Vision;

namespace Distill.Data.Mnist;

/// <summary>
/// MNIST's pixel arithmetic, in float32: x · (1/255/std) − mean/std (x/255 without mean and std), one grey channel —
/// what <see cref="MnistDataset"/> does to its IDX pixels, and, for <c>distill predict</c>, to images read from files
/// (decoded to grey by <see cref="ImageFolder.ImageFile"/>), which are first resized to 28×28 with Pillow's bilinear
/// filter when they have another size.
/// </summary>
public sealed class MnistPixels : IImageProcessor
{
    /// <summary>The side of an MNIST image.</summary>
    public const int Side = 28;

    private readonly float _scale;
    private readonly float _shift;

    /// <param name="mean">One value, or null (with <paramref name="std"/>) for none.</param>
    /// <param name="std">One value, or null.</param>
    public MnistPixels(IReadOnlyList<double>? mean, IReadOnlyList<double>? std)
    {
        float m = mean is { } a ? (float)a[0] : 0f, s = std is { } b ? (float)b[0] : 1f;
        _scale = 1f / 255f / s;
        _shift = m / s;
    }

    /// <summary>The model input of one pixel value.</summary>
    public float Value(byte pixel) => pixel * _scale - _shift;

    public (int Height, int Width) OutputSize(int height, int width) => (Side, Side);

    public void PreprocessInto(ReadOnlySpan<byte> hwc, int height, int width, int channels, Span<float> chwOut)
    {
        if (channels != 1) throw new ArgumentException($"MNIST images have one (grey) channel, not {channels}.", nameof(channels));
        if (hwc.Length != height * width) throw new ArgumentException($"{hwc.Length} bytes is not a {height}×{width} grey image.", nameof(hwc));
        if (chwOut.Length != Side * Side) throw new ArgumentException($"the output needs {Side * Side} floats, not {chwOut.Length}.", nameof(chwOut));
        ReadOnlySpan<byte> pixels = height == Side && width == Side ? hwc : PillowResize.Resize(hwc, height, width, 1, Side, Side, resample: 2);
        for (int p = 0; p < pixels.Length; p++) chwOut[p] = Value(pixels[p]);
    }
}
