using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Distill.Logging;

namespace Distill.Design.Plot;

/// <summary>
/// A minimal PNG writer (ISO/IEC 15948, PNG 1.2 spec) for 8-bit truecolour images, so plots need no imaging library:
/// the 8-byte signature, then chunks of <c>uint32 length (big-endian) | 4-byte type | data | CRC-32 of type and data</c>:
/// <c>IHDR</c> (width, height, bit depth 8, colour type 2 = RGB, compression 0, filter method 0, no interlace), one
/// <c>IDAT</c> holding the zlib stream (RFC 1950) of the scanlines, each prefixed by its filter type, and an empty
/// <c>IEND</c>. Every scanline uses filter 0 (None): plots are mostly flat colour, which deflate compresses well as is.
/// </summary>
public static class PngEncoder
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes <paramref name="rgb"/>: <paramref name="height"/> rows, top first, of <paramref name="width"/>
    /// pixels of 3 bytes (R, G, B).</summary>
    public static byte[] EncodeRgb(int width, int height, ReadOnlySpan<byte> rgb)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"PNG: the image is {width}x{height}; both sides must be at least 1 pixel.");
        long rowBytes = 3L * width;
        if (rgb.Length != rowBytes * height)
            throw new ArgumentException($"PNG: {width}x{height} RGB needs {rowBytes * height} bytes, got {rgb.Length}.", nameof(rgb));

        var output = new MemoryStream();
        output.Write(Signature);

        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr[4..], (uint)height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // colour type: truecolour (RGB)
        ihdr[10] = 0; // compression method: deflate
        ihdr[11] = 0; // filter method: adaptive, five basic filter types
        ihdr[12] = 0; // no interlace
        WriteChunk(output, "IHDR", ihdr);

        var idat = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0); // filter type None
                zlib.Write(rgb.Slice((int)(y * rowBytes), (int)rowBytes));
            }
        }
        WriteChunk(output, "IDAT", idat.GetBuffer().AsSpan(0, (int)idat.Length));
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        output.Write(word);
        Span<byte> typeBytes = stackalloc byte[4];
        Encoding.ASCII.GetBytes(type, typeBytes);
        output.Write(typeBytes);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Iso.Compute(data, Crc32.Iso.Compute(typeBytes)));
        output.Write(word);
    }
}
