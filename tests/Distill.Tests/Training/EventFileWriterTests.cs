using System.Text;
using Distill.Design.Plot;
using Distill.Logging;
using Distill.Tests.Design.Plot;
using Distill.Tests.Recipes;
using TorchSharp;
using Xunit;

namespace Distill.Tests.Training;

public class EventFileWriterTests
{
    private static byte[] SamplePng(int width, int height)
    {
        using var canvas = new SkiaCanvas(width, height);
        canvas.FillRect(1, 1, 2, 1, "#1f77b4");
        return canvas.ToPng();
    }

    [Fact]
    public void TorchSharpsCrc32cMatchesTheCheckValueAndTheBitwiseDefinition()
    {
        // The catalogue check of CRC-32C: the CRC of the ASCII digits 1..9.
        var digits = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0xE3069283u, TorchSharp.Utils.CRC32C.process(digits));
        var random = new byte[1000];
        new Random(5).NextBytes(random);
        Assert.Equal(BitwiseCrc.Compute(random, BitwiseCrc.Castagnoli), TorchSharp.Utils.CRC32C.process(random));
    }

    [Fact]
    public void EveryRecordReadsBackWithValidFramingAndUnixWallTimes()
    {
        string dir = TestRecipes.TempDir();
        try
        {
            var writer = new EventFileWriter(dir);
            byte[] png = SamplePng(4, 3);
            writer.Scalar("loss/total", 0.25, 3);
            writer.Text("notes", "hello", 3);
            using (var values = torch.linspace(-1, 1, 50)) writer.Histogram("weights/w", values, 4);
            writer.Image("plots/x", png, 5);

            string name = Path.GetFileName(writer.FilePath);
            Assert.StartsWith("events.out.tfevents.", name);
            // TensorFlow's naming: the creation time in whole Unix seconds after the prefix.
            double stamp = long.Parse(name.Split('.')[3]);
            Assert.InRange(stamp, EventFileWriter.UnixNow() - 60, EventFileWriter.UnixNow());

            var events = TensorBoardEvents.Events(dir).ToList(); // throws on a bad length or data CRC
            Assert.Equal("brain.Event:2", events[0].FileVersion);
            Assert.Equal(5, events.Count);
            TensorBoardEvents.AssertUnixWallTimes(events);
            Assert.Equal(events.Select(e => e.WallTime).Order(), events.Select(e => e.WallTime));

            Assert.Equal(("loss/total", 3L, 0.25f), Assert.Single(TensorBoardEvents.ReadScalars(dir)));
            Assert.Equal("hello", Encoding.UTF8.GetString(events[2].Summary.Value.Single().Tensor.StringVal.Single().ToByteArray()));
            Assert.Equal(["weights/w"], TensorBoardEvents.HistogramTags(dir));
            Assert.Equal(50, events[3].Summary.Value.Single().Histo.Num);
            var (tag, step, image) = Assert.Single(TensorBoardEvents.ReadImages(dir));
            Assert.Equal(("plots/x", 5L), (tag, step));
            Assert.Equal((4, 3, 3), (image.Width, image.Height, image.Colorspace)); // an opaque PNG: RGB
            Assert.Equal(png, image.EncodedImageString.ToByteArray());
            Assert.Equal(((byte)0x1f, (byte)0x77, (byte)0xb4), DecodedPng.Decode(image.EncodedImageString.ToByteArray()).Pixel(1, 1));
        }
        finally
        {
            TestRecipes.DeleteDir(dir);
        }
    }

    [Fact]
    public void NotAnImageIsRefused()
    {
        string dir = TestRecipes.TempDir();
        try
        {
            Assert.Contains("not an image", Assert.Throws<ArgumentException>(() => new EventFileWriter(dir).Image("x", [1, 2, 3], 0)).Message);
        }
        finally
        {
            TestRecipes.DeleteDir(dir);
        }
    }

    /// <summary>
    /// Why <see cref="EventFileWriter"/> exists: TorchSharp's <c>SummaryWriter.add_img</c> does write a valid image
    /// summary with the Skia natives present, but the writer's first record is stamped with a .NET tick count (and its
    /// other wall times are whole seconds). When this starts failing, TorchSharp has fixed the first record.
    /// </summary>
    [Fact]
    public void TorchSharpSummaryWriterWritesImagesButStampsItsFirstRecordInTicks()
    {
        string dir = TestRecipes.TempDir();
        try
        {
            Directory.CreateDirectory(dir);
            string file = Path.Combine(dir, "plot.png");
            File.WriteAllBytes(file, SamplePng(6, 4));
            torch.utils.tensorboard.SummaryWriter(Path.Combine(dir, "tb")).add_img("plots/x", file, 2);

            var events = TensorBoardEvents.Events(Path.Combine(dir, "tb")).ToList();
            var (tag, step, image) = Assert.Single(TensorBoardEvents.ReadImages(Path.Combine(dir, "tb")));
            Assert.Equal(("plots/x", 2L, 6, 4), (tag, step, image.Width, image.Height));
            var decoded = DecodedPng.Decode(image.EncodedImageString.ToByteArray());
            Assert.Equal((6, 4), (decoded.Width, decoded.Height));
            Assert.Equal("brain.Event:2", events[0].FileVersion);
            Assert.True(events[0].WallTime > 1e15, $"file_version wall time {events[0].WallTime}");
            Assert.Equal(Math.Floor(events[1].WallTime), events[1].WallTime);
        }
        finally
        {
            TestRecipes.DeleteDir(dir);
        }
    }
}
