using System.Buffers.Binary;
using System.Text;

namespace Distill.Audio;

/// <summary>
/// Reader of RIFF/WAVE files: integer PCM of 8 (unsigned), 16, 24 and 32 bits and IEEE float of 32 and 64 bits,
/// any channel count, in the plain (format tag 1 / 3) or WAVE_FORMAT_EXTENSIBLE (0xFFFE) layout. Chunks other than
/// <c>fmt </c> and <c>data</c> (LIST, fact, cue, ...) are skipped, honouring RIFF's pad byte after odd-sized chunks.
/// Integer samples are scaled by 1/2^(bits−1), so 16-bit data becomes int16/32768 exactly as <c>soundfile</c> and HF
/// pipelines produce it. Malformed or unsupported files throw <see cref="InvalidDataException"/> naming the file,
/// the byte offset and what is wrong.
/// </summary>
public static class WavReader
{
    private const ushort FormatPcm = 1;
    private const ushort FormatFloat = 3;
    private const ushort FormatExtensible = 0xFFFE;

    /// <summary>Reads and decodes the whole file.</summary>
    public static WavAudio Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new FileNotFoundException($"{path}: WAV file not found.", path); }
        return Decode(bytes, path);
    }

    /// <summary>Decodes WAV bytes; <paramref name="name"/> is used in error messages.</summary>
    public static WavAudio Decode(ReadOnlySpan<byte> b, string name)
    {
        if (b.Length < 12 || !Tag(b, 0, "RIFF") || !Tag(b, 8, "WAVE"))
        {
            string start = Encoding.ASCII.GetString(b[..Math.Min(12, b.Length)]).Replace('\0', '.');
            throw Bad(name, 0, $"not a RIFF/WAVE file (it starts with \"{start}\"; expected \"RIFF....WAVE\")");
        }
        int pos = 12;
        int channels = 0, rate = 0, bits = 0, blockAlign = 0;
        ushort format = 0;
        bool haveFmt = false;
        while (pos + 8 <= b.Length)
        {
            string id = Encoding.ASCII.GetString(b.Slice(pos, 4));
            long size = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(pos + 4, 4));
            int body = pos + 8;
            if (id == "fmt ")
            {
                if (size < 16) throw Bad(name, pos, $"the fmt chunk has {size} bytes, fewer than the 16 a WAVE format needs");
                if (body + size > b.Length) throw Bad(name, pos, $"the fmt chunk declares {size} bytes but the file ends after {b.Length - body}");
                var f = b.Slice(body, (int)size);
                format = BinaryPrimitives.ReadUInt16LittleEndian(f);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(f[2..]);
                rate = (int)BinaryPrimitives.ReadUInt32LittleEndian(f[4..]);
                blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(f[12..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(f[14..]);
                if (format == FormatExtensible)
                {
                    if (size < 40) throw Bad(name, pos, "WAVE_FORMAT_EXTENSIBLE fmt chunk is shorter than 40 bytes");
                    format = BinaryPrimitives.ReadUInt16LittleEndian(f[24..]); // first two bytes of the sub-format GUID
                }
                haveFmt = true;
            }
            else if (id == "data")
            {
                if (!haveFmt) throw Bad(name, pos, "the data chunk comes before any fmt chunk");
                if (body + size > b.Length)
                    throw Bad(name, pos, $"the data chunk declares {size} bytes but only {b.Length - body} follow (truncated file?)");
                return DecodeSamples(b.Slice(body, (int)size), name, body, format, channels, rate, bits, blockAlign);
            }
            long next = body + size + (size & 1);
            if (next > b.Length && body + size > b.Length)
                throw Bad(name, pos, $"chunk '{id}' declares {size} bytes but only {b.Length - body} follow (truncated file?)");
            pos = (int)Math.Min(next, b.Length);
        }
        throw Bad(name, pos, haveFmt ? "no data chunk" : "no fmt chunk and no data chunk");
    }

    private static WavAudio DecodeSamples(ReadOnlySpan<byte> data, string name, int offset, ushort format, int channels, int rate, int bits, int blockAlign)
    {
        if (channels < 1) throw Bad(name, offset, "the fmt chunk declares 0 channels");
        if (rate < 1) throw Bad(name, offset, "the fmt chunk declares a sample rate of 0");
        bool isFloat = format == FormatFloat;
        if (format == FormatPcm && bits is not (8 or 16 or 24 or 32) || isFloat && bits is not (32 or 64) || format is not (FormatPcm or FormatFloat))
            throw Bad(name, offset, $"unsupported sample format (format tag {format}, {bits} bits); supported: integer PCM 8/16/24/32-bit and IEEE float 32/64-bit. Convert the file, for example with `sox in.wav -b 16 out.wav`");
        int bytesPer = bits / 8;
        if (blockAlign != bytesPer * channels)
            throw Bad(name, offset, $"block align {blockAlign} does not equal {channels} channels × {bytesPer} bytes");
        if (data.Length % blockAlign != 0)
            throw Bad(name, offset, $"the data chunk has {data.Length} bytes, not a whole number of {blockAlign}-byte frames");
        int frames = data.Length / blockAlign;
        var planes = new float[channels][];
        for (int c = 0; c < channels; c++) planes[c] = new float[frames];
        for (int i = 0; i < frames; i++)
        {
            for (int c = 0; c < channels; c++)
            {
                var s = data.Slice(i * blockAlign + c * bytesPer, bytesPer);
                planes[c][i] = (isFloat, bits) switch
                {
                    (false, 8) => (s[0] - 128) / 128f,
                    (false, 16) => BinaryPrimitives.ReadInt16LittleEndian(s) / 32768f,
                    (false, 24) => ((s[0] | (s[1] << 8) | ((sbyte)s[2] << 16))) / 8388608f,
                    (false, 32) => (float)(BinaryPrimitives.ReadInt32LittleEndian(s) / 2147483648.0),
                    (true, 32) => BinaryPrimitives.ReadSingleLittleEndian(s),
                    _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(s),
                };
            }
        }
        return new WavAudio(rate, planes, bits, isFloat);
    }

    private static bool Tag(ReadOnlySpan<byte> b, int at, string tag) =>
        b.Slice(at, 4).SequenceEqual(Encoding.ASCII.GetBytes(tag));

    private static InvalidDataException Bad(string name, int offset, string what) =>
        new($"{name}: malformed WAV file at byte {offset}: {what}.");
}
