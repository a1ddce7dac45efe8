using System.Buffers.Binary;
using System.IO.Compression;

namespace Distill.Data;

/// <summary>
/// Reads a whole gzip file and checks it. .NET's <see cref="GZipStream"/> reports damaged deflate data without naming
/// the file, and ends silently at the end of a truncated file (measured: half a file decompresses to half the data, a
/// file missing its 8-byte trailer to all of it), so the trailer (CRC-32 and length of the data, RFC 1952 §2.3) is
/// compared with the data here. Single-member files only, which is what gzip writes.
/// </summary>
public static class GzipFile
{
    /// <summary>Header (10 bytes), the smallest deflate stream (2) and the trailer (8).</summary>
    private const int MinimumLength = 20;

    /// <summary>The decompressed bytes of <paramref name="path"/>; an <see cref="InvalidInputException"/> naming the file when it is not gzip, damaged or truncated.</summary>
    public static byte[] ReadAll(string path)
    {
        var compressed = File.ReadAllBytes(path);
        if (compressed.Length < 2 || compressed[0] != 0x1f || compressed[1] != 0x8b)
            throw new InvalidInputException(path,
                $"{path}: not a gzip file (it does not start with the gzip signature 1f 8b); replace it with the original download, or store it uncompressed without the .gz suffix.");
        if (compressed.Length < MinimumLength)
            throw new InvalidInputException(path, $"{path}: {compressed.Length} bytes is too short for a gzip file (truncated); download it again.");
        byte[] data;
        try
        {
            using var gz = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var ms = new MemoryStream();
            gz.CopyTo(ms);
            data = ms.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidInputException(path, $"{path}: the compressed data is damaged (gzip: {e.Message}); download the file again.", e);
        }
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(compressed.AsSpan(compressed.Length - 8));
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(compressed.AsSpan(compressed.Length - 4));
        uint actualCrc = System.IO.Hashing.Crc32.HashToUInt32(data);
        if (size != (uint)data.Length || crc != actualCrc)
            throw new InvalidInputException(path,
                $"{path}: the gzip trailer does not match the data (recorded CRC-32 {crc:x8} and length {size} mod 2^32, " +
                $"decompressed CRC-32 {actualCrc:x8} and length {data.Length}): the file is truncated or damaged; download it again.");
        return data;
    }
}
