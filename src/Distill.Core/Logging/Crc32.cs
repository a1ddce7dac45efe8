namespace Distill.Logging;

/// <summary>
/// Table-driven, reflected CRC-32 (init and final XOR 0xFFFFFFFF) for the two polynomials the files we write need:
/// <see cref="Iso"/> (0xEDB88320, ISO-HDLC: PNG chunks, zlib's crc32) and <see cref="Castagnoli"/> (0x82F63B78,
/// CRC-32C: TFRecord framing of TensorBoard event files). The BCL has no CRC-32 without the System.IO.Hashing
/// package, and a 1 KiB table per polynomial is cheaper than a dependency.
/// </summary>
public sealed class Crc32
{
    /// <summary>CRC-32 of PNG (ISO 3309 / ITU-T V.42); check value of "123456789" is 0xCBF43926.</summary>
    public static readonly Crc32 Iso = new(0xEDB88320u);

    /// <summary>CRC-32C (Castagnoli, RFC 3720); check value of "123456789" is 0xE3069283.</summary>
    public static readonly Crc32 Castagnoli = new(0x82F63B78u);

    private readonly uint[] _table = new uint[256];

    private Crc32(uint reflectedPolynomial)
    {
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? reflectedPolynomial ^ (c >> 1) : c >> 1;
            _table[n] = c;
        }
    }

    /// <summary>The CRC of <paramref name="data"/>; pass a previous result as <paramref name="crc"/> to continue it over
    /// a further span (the CRC of a concatenation, as zlib's <c>crc32(crc, buf)</c>).</summary>
    public uint Compute(ReadOnlySpan<byte> data, uint crc = 0)
    {
        uint c = ~crc;
        foreach (byte b in data) c = _table[(c ^ b) & 0xFF] ^ (c >> 8);
        return ~c;
    }
}
