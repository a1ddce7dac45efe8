using SkiaSharp;

namespace Distill.Data.ImageFolder;

/// <summary>
/// Decodes one image file with SkiaSharp (PNG, JPEG, BMP, WebP, GIF's first frame) into 8-bit pixels, channels last,
/// as PIL's <c>convert("RGB")</c> / <c>convert("L")</c> would give them: alpha is dropped (not composited) and grey is
/// PIL's ITU-R 601-2 luma, L = (19595 R + 38470 G + 7471 B + 2^15) >> 16. EXIF orientation is not applied (PIL does not
/// either). A file SkiaSharp cannot read, or whose pixel data ends early, is an <see cref="InvalidInputException"/>
/// naming the file.
/// </summary>
public static class ImageFile
{
    /// <summary>The file's (height, width) from its header, without decoding the pixels.</summary>
    public static (int Height, int Width) Size(string path)
    {
        using var codec = Open(path);
        return (codec.Info.Height, codec.Info.Width);
    }

    /// <summary>The pixels, H·W·<paramref name="channels"/> bytes (1 = grey, 3 = RGB), and the size.</summary>
    public static (byte[] Pixels, int Height, int Width) Decode(string path, int channels)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), "1 (grey) or 3 (RGB)");
        using var codec = Open(path);
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
            throw new InvalidInputException(path, result == SKCodecResult.IncompleteInput
                ? $"{path}: the image data ends early (truncated or damaged file); replace or remove it."
                : $"{path}: the image cannot be decoded ({result}); replace or remove it.");
        var rgba = bitmap.GetPixelSpan();
        int n = info.Width * info.Height;
        var pixels = new byte[n * channels];
        for (int p = 0; p < n; p++)
        {
            byte r = rgba[4 * p], g = rgba[4 * p + 1], b = rgba[4 * p + 2];
            if (channels == 3)
            {
                pixels[3 * p] = r;
                pixels[3 * p + 1] = g;
                pixels[3 * p + 2] = b;
            }
            else pixels[p] = (byte)((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16);
        }
        return (pixels, info.Height, info.Width);
    }

    private static SKCodec Open(string path)
    {
        SKCodec? codec;
        SKCodecResult result;
        try
        {
            using var stream = File.OpenRead(path);
            // SKCodec.Create(stream) takes the stream over; copy into memory so the file is closed at once.
            var bytes = new MemoryStream();
            stream.CopyTo(bytes);
            bytes.Position = 0;
            codec = SKCodec.Create(bytes, out result);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(path, $"{path}: cannot be read ({e.Message}).", e);
        }
        if (codec is null)
            throw new InvalidInputException(path,
                $"{path}: not an image SkiaSharp can decode ({result}); image folders take PNG, JPEG, BMP and WebP files. Replace or remove it.");
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width < 1 || height < 1)
        {
            codec.Dispose();
            throw new InvalidInputException(path, $"{path}: the image has no pixels ({width}×{height}); replace or remove it.");
        }
        return codec;
    }
}
