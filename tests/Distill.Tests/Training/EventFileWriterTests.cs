using System.Text;
using Distill.Design.Plot;
using Distill.Logging;
using Distill.Tests.Design.Plot;
using Distill.Tests.Recipes;
using Xunit;

namespace Distill.Tests.Training;

public class EventFileWriterTests
{
    [Fact]
    public void CrcsMatchThePublishedCheckValues()
    {
        // The "check" of each CRC catalogue entry: the CRC of the ASCII digits 1..9.
        var digits = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0xCBF43926u, Crc32.Iso.Compute(digits));
        Assert.Equal(0xE3069283u, Crc32.Castagnoli.Compute(digits));
        // Continuing a CRC over a second span is the CRC of the concatenation.
        Assert.Equal(0xCBF43926u, Crc32.Iso.Compute(digits.AsSpan(4), Crc32.Iso.Compute(digits.AsSpan(0, 4))));
    }

    [Fact]
    public void ImageSummaryReadsBackWithValidFramingAndTheSamePng()
    {
        string dir = TestRecipes.TempDir();
        try
        {
            byte[] png;
            using (var canvas = new SkiaCanvas(4, 3))
            {
                canvas.FillRect(1, 1, 2, 1, "#1f77b4");
                png = canvas.ToPng();
            }
            string file = EventFileWriter.WriteImage(dir, "plots/x", png, 4, 3, step: 5, wallTime: 1.7e9);

            Assert.StartsWith("events.out.tfevents.", Path.GetFileName(file));
            var events = TensorBoardEvents.Events(dir).ToList(); // throws on a bad length or data CRC
            Assert.Equal("brain.Event:2", events[0].FileVersion);
            var (tag, step, image) = Assert.Single(TensorBoardEvents.ReadImages(dir));
            Assert.Equal("plots/x", tag);
            Assert.Equal(5, step);
            Assert.Equal((4, 3, 3), (image.Width, image.Height, image.Colorspace));
            Assert.Equal(png, image.EncodedImageString.ToByteArray());
            Assert.Equal(((byte)0x1f, (byte)0x77, (byte)0xb4), DecodedPng.Decode(image.EncodedImageString.ToByteArray()).Pixel(1, 1));
            Assert.Equal(1.7e9, events[1].WallTime);
        }
        finally
        {
            TestRecipes.DeleteDir(dir);
        }
    }
}
