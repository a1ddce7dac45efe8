using System.Buffers.Binary;
using Google.Protobuf;

namespace Distill.Logging;

/// <summary>
/// Writes TensorBoard event records without TorchSharp's <c>SummaryWriter</c>, for the design plot's image: its PNG
/// goes in byte for byte (<c>add_img</c> would decode and re-encode it). An event file is a sequence of
/// TFRecords — <c>uint64 length</c>, <c>uint32 masked_crc32c(length)</c>, the serialised <c>tensorboard.Event</c>,
/// <c>uint32 masked_crc32c(data)</c>, all little-endian — where masking is <c>((crc &gt;&gt; 15) | (crc &lt;&lt; 17)) +
/// 0xa282ead8</c> (TensorFlow's record_writer). The first record of a file is the <c>brain.Event:2</c> version event.
/// </summary>
public static class EventFileWriter
{
    /// <summary>
    /// Writes <paramref name="png"/> as an image summary (<c>Summary.Value.image</c>, the form TensorBoard's image
    /// dashboard reads) into a new event file in <paramref name="logDir"/>. The file is named like the
    /// <c>SummaryWriter</c>'s (<c>events.out.tfevents.&lt;.NET ticks&gt;...</c>) so that, created later, it sorts after the
    /// stage's scalar file: TensorBoard reads a run folder's event files in name order.
    /// </summary>
    public static string WriteImage(string logDir, string tag, byte[] png, int width, int height, long step, double wallTime)
    {
        Directory.CreateDirectory(logDir);
        string file = Path.Combine(logDir, $"events.out.tfevents.{DateTime.Now.Ticks}.{Environment.MachineName}.{Environment.ProcessId}.image");
        var image = new Tensorboard.Summary.Types.Image
        {
            Width = width, Height = height, Colorspace = 3, // 3 = RGB
            EncodedImageString = ByteString.CopyFrom(png),
        };
        var summary = new Tensorboard.Summary();
        summary.Value.Add(new Tensorboard.Summary.Types.Value { Tag = tag, Image = image });
        using var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write);
        Write(stream, new Tensorboard.Event { WallTime = wallTime, FileVersion = "brain.Event:2" });
        Write(stream, new Tensorboard.Event { WallTime = wallTime, Step = step, Summary = summary });
        return file;
    }

    /// <summary>Appends one event as a TFRecord.</summary>
    public static void Write(Stream stream, Tensorboard.Event ev)
    {
        byte[] data = ev.ToByteArray();
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.LongLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc(data));
        stream.Write(header);
        stream.Write(data);
        stream.Write(footer);
    }

    /// <summary>TFRecord's masked CRC-32C: a CRC stored next to data that itself holds CRCs is rotated and offset so
    /// that a CRC of a CRC is not trivially structured.</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32.Castagnoli.Compute(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }
}
