using System.Buffers.Binary;

namespace Distill.Tests.Training;

/// <summary>Reads TensorBoard event files back: TFRecord framing (length, masked CRC32C of the length, data, masked CRC32C
/// of the data), both CRCs verified, each record parsed as a <c>tensorboard.Event</c> protobuf.</summary>
internal static class TensorBoardEvents
{
    public static List<(string Tag, long Step, float Value)> ReadScalars(string dir)
    {
        var result = new List<(string, long, float)>();
        foreach (var file in Directory.GetFiles(dir, "events.out.tfevents.*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            int o = 0;
            while (o < bytes.Length)
            {
                ulong len = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(o));
                uint lenCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(o + 8));
                if (lenCrc != MaskedCrc(bytes.AsSpan(o, 8))) throw new InvalidDataException($"{file}: bad length CRC at {o}");
                var data = bytes.AsSpan(o + 12, (int)len);
                uint dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(o + 12 + (int)len));
                if (dataCrc != MaskedCrc(data)) throw new InvalidDataException($"{file}: bad data CRC at {o}");
                var ev = Tensorboard.Event.Parser.ParseFrom(data.ToArray());
                if (ev.Summary != null)
                    foreach (var v in ev.Summary.Value)
                        if (v.ValueCase == Tensorboard.Summary.Types.Value.ValueOneofCase.SimpleValue)
                            result.Add((v.Tag, ev.Step, v.SimpleValue));
                o += 12 + (int)len + 4;
            }
        }
        return result;
    }

    public static List<string> HistogramTags(string dir)
    {
        var tags = new List<string>();
        foreach (var file in Directory.GetFiles(dir, "events.out.tfevents.*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            for (int o = 0; o < bytes.Length;)
            {
                int len = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(o));
                var ev = Tensorboard.Event.Parser.ParseFrom(bytes.AsSpan(o + 12, len).ToArray());
                if (ev.Summary != null)
                    tags.AddRange(ev.Summary.Value.Where(v => v.ValueCase == Tensorboard.Summary.Types.Value.ValueOneofCase.Histo).Select(v => v.Tag));
                o += 12 + len + 4;
            }
        }
        return tags;
    }

    private static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    private static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }
}
