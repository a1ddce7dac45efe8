namespace Distill.Compression.Artifact;

/// <summary>Reads codes most-significant bit first from a byte range (the counterpart of <see cref="BitWriter"/>).</summary>
internal sealed class BitReader(byte[] data, int offset, int length, string what)
{
    private long _bit;
    private readonly long _end = (long)length * 8;

    public uint Read(int width)
    {
        uint value = 0;
        for (int i = 0; i < width; i++) value = (value << 1) | ReadBit();
        return value;
    }

    public uint ReadBit()
    {
        if (_bit >= _end) throw new InvalidDataException($"{what}: the bit stream ends early (after {_end} bits).");
        int b = data[offset + (int)(_bit >> 3)];
        uint bit = (uint)(b >> (7 - (int)(_bit & 7))) & 1;
        _bit++;
        return bit;
    }
}
