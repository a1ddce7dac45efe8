using System.Text;
using Distill.Design.Plot;
using Distill.Logging;
using Xunit;

namespace Distill.Tests.Design.Plot;

public class PngEncoderTests
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

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 5)]
    [InlineData(300, 2)]
    public void EncodedImageDecodesToThePixelsWritten(int width, int height)
    {
        var rgb = new byte[3 * width * height];
        new Random(width * 31 + height).NextBytes(rgb);
        var png = PngEncoder.EncodeRgb(width, height, rgb);

        var image = PngReader.Decode(png); // checks the signature, every chunk CRC, the IHDR fields and the filter bytes
        Assert.Equal(["IHDR", "IDAT", "IEND"], image.ChunkTypes);
        Assert.Equal(width, image.Width);
        Assert.Equal(height, image.Height);
        Assert.Equal(rgb, image.Rgb);
    }

    [Fact]
    public void ACorruptedByteFailsTheChunkCrc()
    {
        var png = PngEncoder.EncodeRgb(2, 2, new byte[12]);
        png[8 + 8 + 1] ^= 1; // the second byte of the IHDR width
        Assert.Contains("bad CRC on chunk IHDR", Assert.Throws<InvalidDataException>(() => PngReader.Decode(png)).Message);
    }

    [Fact]
    public void WrongBufferSizeOrEmptyImageIsRefused()
    {
        Assert.Contains("needs 12 bytes, got 11", Assert.Throws<ArgumentException>(() => PngEncoder.EncodeRgb(2, 2, new byte[11])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.EncodeRgb(0, 2, []));
    }
}
