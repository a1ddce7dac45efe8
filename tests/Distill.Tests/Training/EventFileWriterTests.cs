using Distill.Design.Plot;
using Distill.Logging;
using Distill.Tests.Design.Plot;
using Distill.Tests.Recipes;
using Xunit;

namespace Distill.Tests.Training;

public class EventFileWriterTests
{
    [Fact]
    public void ImageSummaryReadsBackWithValidFramingAndTheSamePng()
    {
        string dir = TestRecipes.TempDir();
        try
        {
            var rgb = new byte[3 * 4 * 3];
            new Random(7).NextBytes(rgb);
            byte[] png = PngEncoder.EncodeRgb(4, 3, rgb);
            string file = EventFileWriter.WriteImage(dir, "plots/x", png, 4, 3, step: 5, wallTime: 1.7e9);

            Assert.StartsWith("events.out.tfevents.", Path.GetFileName(file));
            var events = TensorBoardEvents.Events(dir).ToList(); // throws on a bad length or data CRC
            Assert.Equal("brain.Event:2", events[0].FileVersion);
            var (tag, step, image) = Assert.Single(TensorBoardEvents.ReadImages(dir));
            Assert.Equal("plots/x", tag);
            Assert.Equal(5, step);
            Assert.Equal((4, 3, 3), (image.Width, image.Height, image.Colorspace));
            Assert.Equal(png, image.EncodedImageString.ToByteArray());
            Assert.Equal(rgb, PngReader.Decode(image.EncodedImageString.ToByteArray()).Rgb);
            Assert.Equal(1.7e9, events[1].WallTime);
        }
        finally
        {
            TestRecipes.DeleteDir(dir);
        }
    }
}
