using System.Buffers.Binary;
using SkiaSharp;

namespace Distill.Tests.Data;

/// <summary>Data files the dataset tests write for themselves: images encoded with SkiaSharp, WAV files of every encoding, text tables.</summary>
internal sealed class DataFiles : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "distill-tests", "data-" + Guid.NewGuid().ToString("N"));

    public DataFiles() => Directory.CreateDirectory(Root);

    public string this[string relative] => Path.Combine(Root, relative);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Writes <paramref name="text"/> at <paramref name="relative"/> (folders created), UTF-8 without BOM unless <paramref name="bom"/>.</summary>
    public string Text(string relative, string text, bool bom = false)
    {
        string path = this[relative];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new System.Text.UTF8Encoding(bom));
        return path;
    }

    public string Bytes(string relative, byte[] bytes)
    {
        string path = this[relative];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>An image whose pixel (x, y) is (r0 + x, g0 + y, b0) encoded as <paramref name="format"/>.</summary>
    public string Image(string relative, int width, int height, byte r0, byte g0, byte b0, SKEncodedImageFormat format = SKEncodedImageFormat.Png) =>
        Bytes(relative, EncodeImage(Pixels(width, height, r0, g0, b0), format));

    public static SKBitmap Pixels(int width, int height, byte r0, byte g0, byte b0)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(r0 + x), (byte)(g0 + y), b0, 255));
        return bitmap;
    }

    public static byte[] EncodeImage(SKBitmap bitmap, SKEncodedImageFormat format)
    {
        if (format == SKEncodedImageFormat.Bmp) return EncodeBmp(bitmap); // SkiaSharp decodes BMP but cannot encode it
        using (bitmap)
        using (var image = SKImage.FromBitmap(bitmap))
        using (var data = image.Encode(format, 100))
            return data.ToArray();
    }

    /// <summary>A 24-bit bottom-up BMP (BITMAPINFOHEADER), rows padded to 4 bytes.</summary>
    private static byte[] EncodeBmp(SKBitmap bitmap)
    {
        using (bitmap)
        {
            int w = bitmap.Width, h = bitmap.Height, stride = (3 * w + 3) & ~3;
            var b = new byte[54 + stride * h];
            "BM"u8.CopyTo(b);
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(2), b.Length);
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(10), 54);
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(14), 40);
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), w);
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), h);
            BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(26), 1);
            BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(28), 24);
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(34), stride * h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    var c = bitmap.GetPixel(x, y);
                    int o = 54 + (h - 1 - y) * stride + 3 * x;
                    (b[o], b[o + 1], b[o + 2]) = (c.Blue, c.Green, c.Red);
                }
            return b;
        }
    }

    /// <summary>A WAV file: <paramref name="frames"/>[frame][channel] in [−1, 1), written as PCM of <paramref name="bits"/> bits, IEEE float (<paramref name="isFloat"/>), or with another format tag.</summary>
    public string Wav(string relative, float[][] frames, int rate, int bits = 16, bool isFloat = false, ushort? formatTag = null)
    {
        int channels = frames.Length == 0 ? 1 : frames[0].Length, bytesPer = bits / 8;
        var data = new byte[frames.Length * channels * bytesPer];
        for (int i = 0; i < frames.Length; i++)
            for (int c = 0; c < channels; c++)
            {
                var s = data.AsSpan((i * channels + c) * bytesPer, bytesPer);
                double v = frames[i][c];
                if (isFloat) BinaryPrimitives.WriteSingleLittleEndian(s, (float)v);
                else if (bits == 16) BinaryPrimitives.WriteInt16LittleEndian(s, (short)Math.Round(v * 32767));
                else if (bits == 24)
                {
                    int k = (int)Math.Round(v * 8388607);
                    s[0] = (byte)k; s[1] = (byte)(k >> 8); s[2] = (byte)(k >> 16);
                }
                else throw new ArgumentException("bits");
            }
        var b = new byte[44 + data.Length];
        "RIFF"u8.CopyTo(b);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4), 36 + data.Length);
        "WAVEfmt "u8.CopyTo(b.AsSpan(8));
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(16), 16);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(20), formatTag ?? (ushort)(isFloat ? 3 : 1));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(22), (ushort)channels);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(24), rate);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(28), rate * channels * bytesPer);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(32), (ushort)(channels * bytesPer));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(34), (ushort)bits);
        "data"u8.CopyTo(b.AsSpan(36));
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(40), data.Length);
        data.CopyTo(b.AsSpan(44));
        return Bytes(relative, b);
    }

    /// <summary>A mono tone of <paramref name="seconds"/> at <paramref name="hz"/>, amplitude 0.5.</summary>
    public static float[][] Tone(double hz, int rate, double seconds, int channels = 1) =>
        [.. Enumerable.Range(0, (int)(rate * seconds)).Select(i => Enumerable.Repeat((float)(0.5 * Math.Sin(2 * Math.PI * hz * i / rate)), channels).ToArray())];
}
