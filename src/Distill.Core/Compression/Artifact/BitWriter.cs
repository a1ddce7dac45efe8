namespace Distill.Compression.Artifact;

/// <summary>Appends codes most-significant bit first; <see cref="ToArray"/> pads the last byte with zero bits.</summary>
internal sealed class BitWriter
{
    private readonly List<byte> _bytes = [];
    private ulong _acc;
    private int _pending; // bits held in _acc (< 8 after each Write)

    public long BitCount { get; private set; }

    /// <summary>Writes the low <paramref name="width"/> bits of <paramref name="code"/> (width 0..56).</summary>
    public void Write(ulong code, int width)
    {
        if (width == 0) return;
        if (width > 56) throw new ArgumentOutOfRangeException(nameof(width), width, "at most 56 bits per write");
        _acc = (_acc << width) | (code & ((1UL << width) - 1));
        _pending += width;
        BitCount += width;
        while (_pending >= 8)
        {
            _pending -= 8;
            _bytes.Add((byte)(_acc >> _pending));
        }
        _acc &= (1UL << _pending) - 1;
    }

    public byte[] ToArray()
    {
        var result = new byte[_bytes.Count + (_pending > 0 ? 1 : 0)];
        _bytes.CopyTo(result);
        if (_pending > 0) result[^1] = (byte)(_acc << (8 - _pending));
        return result;
    }
}
