using System.Buffers.Binary;
using Xunit;

namespace Distill.Tests.Training;

/// <summary>Reads TensorBoard event files back: TFRecord framing (length, masked CRC32C of the length, data, masked CRC32C
/// of the data), both CRCs verified, each record parsed as a <c>tensorboard.Event</c> protobuf.</summary>
internal static class TensorBoardEvents
{
    public static List<(string Tag, long Step, float Value)> ReadScalars(string dir) =>
        Values(dir).Where(e => e.Value.ValueCase == Tensorboard.Summary.Types.Value.ValueOneofCase.SimpleValue)
            .Select(e => (e.Value.Tag, e.Step, e.Value.SimpleValue)).ToList();

    public static List<string> HistogramTags(string dir) =>
        Values(dir).Where(e => e.Value.ValueCase == Tensorboard.Summary.Types.Value.ValueOneofCase.Histo).Select(e => e.Value.Tag).ToList();

    public static List<(string Tag, long Step, Tensorboard.Summary.Types.Image Image)> ReadImages(string dir) =>
        Values(dir).Where(e => e.Value.ValueCase == Tensorboard.Summary.Types.Value.ValueOneofCase.Image)
            .Select(e => (e.Value.Tag, e.Step, e.Value.Image)).ToList();

    /// <summary>Every event of every event file under <paramref name="dir"/>, CRCs checked.</summary>
    public static IEnumerable<Tensorboard.Event> Events(string dir)
    {
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
                yield return Tensorboard.Event.Parser.ParseFrom(data.ToArray());
                o += 12 + (int)len + 4;
            }
        }
    }

    /// <summary>Every wall time is Unix seconds within a day of now, and they carry sub-second precision (a run of whole
    /// numbers means seconds were truncated somewhere).</summary>
    public static void AssertUnixWallTimes(IReadOnlyList<Tensorboard.Event> events)
    {
        double now = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.InRange(e.WallTime, now - 86_400, now + 86_400));
        if (events.Count >= 3) Assert.Contains(events, e => e.WallTime != Math.Floor(e.WallTime));
    }

    private static IEnumerable<(long Step, Tensorboard.Summary.Types.Value Value)> Values(string dir) =>
        Events(dir).Where(e => e.Summary != null).SelectMany(e => e.Summary.Value.Select(v => (e.Step, v)));

    private static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = BitwiseCrc.Compute(data, BitwiseCrc.Castagnoli);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }
}
