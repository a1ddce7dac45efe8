using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Distill.Tests.Training;

namespace Distill.Tests.Design.Plot;

/// <summary>
/// An independent check of the PNGs we write, from the spec: signature, chunk framing with a bitwise CRC-32 (poly
/// 0xEDB88320) over type and data, IHDR first and IEND last, the concatenated IDAT data inflated as zlib and split into
/// scanlines. Only what our encoder claims to write is accepted (8-bit RGB, no interlace, filter type 0 on every row):
/// anything else is an error, not decoded.
/// </summary>
internal static class PngReader
{
    public sealed record Image(int Width, int Height, byte[] Rgb, IReadOnlyList<string> ChunkTypes)
    {
        public (byte R, byte G, byte B) Pixel(int x, int y)
        {
            int o = 3 * (y * Width + x);
            return (Rgb[o], Rgb[o + 1], Rgb[o + 2]);
        }
    }

    public static Image Decode(byte[] png)
    {
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (!png.AsSpan(0, 8).SequenceEqual(signature)) throw new InvalidDataException("not a PNG signature");
        var types = new List<string>();
        var idat = new MemoryStream();
        int width = 0, height = 0;
        for (int o = 8; o < png.Length;)
        {
            int length = checked((int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(o)));
            string type = Encoding.ASCII.GetString(png, o + 4, 4);
            var data = png.AsSpan(o + 8, length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(o + 8 + length));
            if (crc != BitwiseCrc.Compute(png.AsSpan(o + 4, 4 + length), BitwiseCrc.Iso)) throw new InvalidDataException($"bad CRC on chunk {type}");
            types.Add(type);
            if (type == "IHDR")
            {
                if (length != 13) throw new InvalidDataException("IHDR is not 13 bytes");
                width = (int)BinaryPrimitives.ReadUInt32BigEndian(data);
                height = (int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                if (data[8] != 8 || data[9] != 2 || data[10] != 0 || data[11] != 0 || data[12] != 0)
                    throw new InvalidDataException($"IHDR: depth {data[8]}, colour {data[9]}, compression {data[10]}, filter {data[11]}, interlace {data[12]}");
            }
            else if (type == "IDAT") idat.Write(data);
            o += 12 + length;
        }
        if (types.Count < 3 || types[0] != "IHDR" || types[^1] != "IEND") throw new InvalidDataException($"chunk order {string.Join(",", types)}");

        idat.Position = 0;
        var raw = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(raw);
        var bytes = raw.ToArray();
        int stride = 1 + 3 * width;
        if (bytes.Length != stride * height) throw new InvalidDataException($"{bytes.Length} bytes of scanlines for {width}x{height}");
        var rgb = new byte[3 * width * height];
        for (int y = 0; y < height; y++)
        {
            if (bytes[y * stride] != 0) throw new InvalidDataException($"row {y}: filter {bytes[y * stride]}");
            Array.Copy(bytes, y * stride + 1, rgb, y * 3 * width, 3 * width);
        }
        return new Image(width, height, rgb, types);
    }
}
