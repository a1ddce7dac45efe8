using SkiaSharp;

namespace Distill.Tests.Design.Plot;

/// <summary>A PNG decoded by SkiaSharp (refusing anything that is not a PNG), with its pixels as RGB for assertions.</summary>
internal sealed class DecodedPng
{
    private readonly SKColor[] _pixels;

    private DecodedPng(int width, int height, SKColor[] pixels, int colourType) => (Width, Height, _pixels, PngColourType) = (width, height, pixels, colourType);

    public int Width { get; }

    public int Height { get; }

    /// <summary>IHDR's colour type (byte 25 of the file: signature 8, chunk length and type 8, width and height 8, depth 1):
    /// 2 = RGB, 6 = RGBA.</summary>
    public int PngColourType { get; }

    public static DecodedPng Decode(byte[] png)
    {
        using (var codec = SKCodec.Create(new SKMemoryStream(png)) ?? throw new InvalidDataException("SkiaSharp cannot read these bytes as an image"))
            if (codec.EncodedFormat != SKEncodedImageFormat.Png) throw new InvalidDataException($"a {codec.EncodedFormat} image, not a PNG");
        using var bitmap = SKBitmap.Decode(png) ?? throw new InvalidDataException("SkiaSharp could not decode the PNG");
        return new DecodedPng(bitmap.Width, bitmap.Height, bitmap.Pixels, png[25]);
    }

    public (byte R, byte G, byte B) Pixel(int x, int y)
    {
        var c = _pixels[y * Width + x];
        return (c.Red, c.Green, c.Blue);
    }

    /// <summary>Every pixel's colour, row by row.</summary>
    public IEnumerable<(byte R, byte G, byte B)> All() => _pixels.Select(c => (c.Red, c.Green, c.Blue));

    /// <summary>Whether <paramref name="pixel"/> is within <paramref name="tolerance"/> of <paramref name="hex"/> (#rrggbb) on every channel.</summary>
    public static bool Near((byte R, byte G, byte B) pixel, string hex, int tolerance = 24)
    {
        var c = SKColor.Parse(hex);
        return Math.Abs(pixel.R - c.Red) <= tolerance && Math.Abs(pixel.G - c.Green) <= tolerance && Math.Abs(pixel.B - c.Blue) <= tolerance;
    }
}
