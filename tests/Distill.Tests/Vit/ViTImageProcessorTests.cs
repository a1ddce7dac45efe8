using Distill.Vision;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Distill.Tests.Vit;

public class ViTImageProcessorTests(ITestOutputHelper output)
{
    private static string ConfigPath(string folder) => Path.Combine(VitReference.Folder(folder), "preprocessor_config.json");

    [Fact]
    public void LoadsTheReferenceProcessorConfig()
    {
        var p = ViTImageProcessor.Load(ConfigPath(VitReference.BaseFolder));
        Assert.True(p.DoResize && p.DoRescale && p.DoNormalize);
        Assert.Equal((32, 32), p.Size);
        Assert.Equal(2, p.Resample);
        Assert.Equal(0.00392156862745098, p.RescaleFactor);
        Assert.Equal([0.5, 0.5, 0.5], p.ImageMean);
        Assert.Equal([0.5, 0.5, 0.5], p.ImageStd);
    }

    [Fact]
    public void RawPixelsGiveTheReferencePixelValues()
    {
        var reference = VitReference.Outputs(VitReference.BaseFolder);
        var p = ViTImageProcessor.Load(ConfigPath(VitReference.BaseFolder));
        var pixels = p.Preprocess(reference["raw_pixels_uint8_NHWC"]);
        Assert.Equal(ScalarType.Float32, pixels.dtype);
        double diff = VitReference.MaxAbsDiff(pixels, reference["pixel_values"]);
        output.WriteLine($"pixel_values: max abs diff {diff:E2}");
        Assert.True(diff <= 1e-6, $"max abs diff {diff:E3}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void ResizeToTheSameSizeIsTheIdentity(int resample)
    {
        var raw = VitReference.Outputs(VitReference.BaseFolder)["raw_pixels_uint8_NHWC"];
        var image = raw[0].contiguous().bytes.ToArray(); // (32, 32, 3)
        // Pillow returns a copy for an unchanged size; runBothPasses also runs the filters, which at scale 1 weigh only
        // the pixel itself.
        var resized = PillowResize.Resize(image, 32, 32, 3, 32, 32, resample);
        Assert.Equal(image, resized);
        var forced = PillowResize.Resize(image, 32, 32, 3, 32, 32, resample, runBothPasses: true);
        Assert.Equal(image, forced);
        var viaProcessor = new ViTImageProcessor { Size = (32, 32), Resample = resample }.Preprocess(raw);
        var withoutResize = new ViTImageProcessor { DoResize = false }.Preprocess(raw);
        Assert.True(viaProcessor.equal(withoutResize).all().item<bool>());
    }

    [Fact]
    public void BilinearDownscaleFollowsPillowsAntialiasedTriangleFilter()
    {
        // 4 → 2 pixels (scale 2): the triangle is widened to support 2, so each output sees 3 inputs with weights
        // (3/7, 3/7, 1/7) and (1/7, 3/7, 3/7): [0, 70, 140, 210] → [50, 160] (worked out by hand from Pillow's Resample.c).
        byte[] row = [0, 70, 140, 210];
        Assert.Equal(new byte[] { 50, 160 }, PillowResize.Resize(row, 1, 4, 1, 1, 2, 2));
        // The same along the vertical axis.
        Assert.Equal(new byte[] { 50, 160 }, PillowResize.Resize(row, 4, 1, 1, 2, 1, 2));
    }

    [Theory]
    [InlineData(2, 224)]
    [InlineData(2, 20)]
    [InlineData(3, 224)]
    [InlineData(3, 7)]
    public void ResizeKeepsAConstantImageConstant(int resample, int size)
    {
        var image = Enumerable.Repeat((byte)200, 32 * 32 * 3).ToArray();
        var resized = PillowResize.Resize(image, 32, 32, 3, size, size, resample);
        Assert.Equal(size * size * 3, resized.Length);
        Assert.All(resized, v => Assert.Equal(200, v));
    }

    [Fact]
    public void OutputHasTheConfiguredSize()
    {
        var raw = VitReference.Outputs(VitReference.BaseFolder)["raw_pixels_uint8_NHWC"];
        var pixels = new ViTImageProcessor { Size = (48, 40) }.Preprocess(raw);
        Assert.Equal(new long[] { 4, 3, 48, 40 }, pixels.shape);
        Assert.True(pixels.max().item<float>() <= 1f && pixels.min().item<float>() >= -1f);
    }

    private static string WriteConfig(string json)
    {
        string path = Path.Combine(Path.GetTempPath(), $"preproc-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Theory]
    [InlineData("{\"resample\": 1}", "resample")]
    [InlineData("{\"resample\": 0}", "resample")]
    [InlineData("{\"do_center_crop\": true}", "do_center_crop")]
    [InlineData("{\"size\": {\"shortest_edge\": 224}}", "shortest_edge")]
    [InlineData("{\"image_std\": [0.5, 0, 0.5]}", "image_std[1]")]
    [InlineData("{\"image_processor_type\": \"CLIPImageProcessor\"}", "CLIPImageProcessor")]
    [InlineData("{\"do_resize\": \"yes\"}", "do_resize")]
    [InlineData("[1, 2]", "JSON object")]
    public void BadConfigsAreRejectedNamingTheKey(string json, string expected)
    {
        string path = WriteConfig(json);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => ViTImageProcessor.Load(path));
            Assert.Contains(expected, e.Message);
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ScalarMeanAndStdApplyToEveryChannel()
    {
        string path = WriteConfig("{\"image_mean\": 0.5, \"image_std\": 0.25, \"do_resize\": false}");
        try
        {
            var p = ViTImageProcessor.Load(path);
            var image = torch.full(new long[] { 1, 2, 2, 3 }, 255, ScalarType.Byte);
            var pixels = p.Preprocess(image);
            Assert.True(pixels.eq(2f).all().item<bool>()); // (1 − 0.5) / 0.25
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void RejectsNonByteOrWrongLayoutImages()
    {
        var p = new ViTImageProcessor();
        Assert.Throws<ArgumentException>(() => p.Preprocess(torch.zeros(1, 32, 32, 3)));
        Assert.Throws<ArgumentException>(() => p.Preprocess(torch.zeros(new long[] { 1, 3, 32, 32 }, ScalarType.Byte)));
    }
}
