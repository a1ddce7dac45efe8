namespace Distill.Vision;

/// <summary>
/// Turns one decoded 8-bit image (H, W, C), channels last, into float32 model input (C, H', W'), channels first:
/// HF's <see cref="ViTImageProcessor"/>, or a preset dataset's own pixel arithmetic (MNIST's), so that images read from
/// files for <c>distill predict</c> are pre-processed exactly as the preset's training examples are.
/// </summary>
public interface IImageProcessor
{
    /// <summary>The (height, width) of the output for an input of the given size.</summary>
    (int Height, int Width) OutputSize(int height, int width);

    /// <summary>Pre-processes <paramref name="hwc"/> (H·W·C bytes) into <paramref name="chwOut"/> (C·H'·W' floats).</summary>
    void PreprocessInto(ReadOnlySpan<byte> hwc, int height, int width, int channels, Span<float> chwOut);
}
