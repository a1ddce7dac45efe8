namespace Distill.Compression.Artifact;

/// <summary>Unsigned LEB128: 7 bits per byte, low groups first, high bit set on all but the last byte.</summary>
internal static class Varint
{
    public static int Size(ulong value)
    {
        int n = 1;
        while (value >= 0x80) { value >>= 7; n++; }
        return n;
    }

    public static void Write(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }
}
