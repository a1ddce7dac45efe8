using System.Buffers.Binary;
using Google.Protobuf;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch.utils.tensorboard;

namespace Distill.Logging;

/// <summary>
/// One TensorBoard event file, in place of TorchSharp's <c>SummaryWriter</c>, whose wall times TensorBoard misreads:
/// its first record (<c>file_version</c>) carries a .NET tick count and the others whole seconds (a <c>long</c>). Here
/// every record carries Unix seconds as a double with sub-second precision. The summaries themselves (text, histogram)
/// come from TorchSharp's <c>Summary</c> builders, the CRC-32C from TorchSharp too; this class only frames them. An
/// event file is a sequence of TFRecords — <c>uint64 length</c>, <c>uint32 masked_crc32c(length)</c>, the serialised
/// <c>tensorboard.Event</c>, <c>uint32 masked_crc32c(data)</c>, all little-endian, masking being
/// <c>((crc &gt;&gt; 15) | (crc &lt;&lt; 17)) + 0xa282ead8</c> (TensorFlow's record_writer) — starting with the
/// <c>brain.Event:2</c> version event. Each record is appended and the file closed again, so a reader (TensorBoard
/// while the run goes on, a test) sees whole records and nothing needs disposing.
/// </summary>
public sealed class EventFileWriter
{
    // TensorFlow's default histogram buckets (those SummaryWriter.add_histogram uses): 0 and ±1e-12·1.1^k below 1e20.
    private static readonly Lazy<double[]> DefaultBucketLimits = new(() =>
    {
        var positive = new List<double>();
        for (double v = 1e-12; v < 1e20; v *= 1.1) positive.Add(v);
        return [.. Enumerable.Reverse(positive).Select(v => -v), 0, .. positive];
    });

    private static int _files;

    /// <summary>Creates <c>&lt;logDir&gt;/events.out.tfevents.&lt;unix seconds&gt;.&lt;host&gt;.&lt;pid&gt;.&lt;n&gt;</c> (TensorFlow's
    /// naming, so a folder's files sort in the order they were created, as TensorBoard reads them) with its version record.</summary>
    public EventFileWriter(string logDir)
    {
        Directory.CreateDirectory(logDir);
        double now = UnixNow();
        FilePath = Path.Combine(logDir, $"events.out.tfevents.{(long)now}.{Environment.MachineName}.{Environment.ProcessId}.{Interlocked.Increment(ref _files)}");
        using (File.Open(FilePath, FileMode.CreateNew, FileAccess.Write)) { }
        Append(new Tensorboard.Event { WallTime = now, FileVersion = "brain.Event:2" });
    }

    public string FilePath { get; }

    /// <summary>Now, in seconds since the Unix epoch (TensorBoard's <c>wall_time</c>).</summary>
    public static double UnixNow() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

    public void Scalar(string tag, double value, long step)
    {
        var summary = new Tensorboard.Summary();
        summary.Value.Add(new Tensorboard.Summary.Types.Value { Tag = tag, SimpleValue = (float)value });
        Write(summary, step);
    }

    public void Text(string tag, string text, long step) => Write(Summary.text(tag, text), step);

    /// <summary>A histogram of <paramref name="values"/> (any device) over TensorFlow's default buckets.</summary>
    public void Histogram(string tag, torch.Tensor values, long step)
    {
        using var scope = torch.NewDisposeScope();
        Write(Summary.histogram(tag, values.detach(), torch.tensor(DefaultBucketLimits.Value)), step);
    }

    /// <summary>An encoded image (PNG, JPEG, ...) as the image summary TensorBoard's Images tab shows, bytes unchanged.</summary>
    public void Image(string tag, byte[] encoded, long step)
    {
        var info = SKBitmap.DecodeBounds(encoded);
        if (info.Width <= 0 || info.Height <= 0) throw new ArgumentException($"TensorBoard image '{tag}': the bytes are not an image SkiaSharp can read.", nameof(encoded));
        var image = new Tensorboard.Summary.Types.Image
        {
            Width = info.Width, Height = info.Height, Colorspace = info.AlphaType == SKAlphaType.Opaque ? 3 : 4, // RGB or RGBA
            EncodedImageString = ByteString.CopyFrom(encoded),
        };
        var summary = new Tensorboard.Summary();
        summary.Value.Add(new Tensorboard.Summary.Types.Value { Tag = tag, Image = image });
        Write(summary, step);
    }

    public void Write(Tensorboard.Summary summary, long step) =>
        Append(new Tensorboard.Event { WallTime = UnixNow(), Step = step, Summary = summary });

    private void Append(Tensorboard.Event ev)
    {
        byte[] data = ev.ToByteArray();
        var record = new byte[12 + data.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(record, (ulong)data.LongLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), MaskedCrc(record[..8]));
        data.CopyTo(record, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12 + data.Length), MaskedCrc(data));
        using var stream = new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.Read);
        stream.Write(record);
    }

    /// <summary>TFRecord's masked CRC-32C: a CRC stored next to data that itself holds CRCs is rotated and offset so
    /// that a CRC of a CRC is not trivially structured.</summary>
    public static uint MaskedCrc(byte[] data)
    {
        uint crc = TorchSharp.Utils.CRC32C.process(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }
}
