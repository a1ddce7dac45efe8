using Distill.Design.Plot;
using Xunit;

namespace Distill.Tests.Design.Plot;

/// <summary>The rasteriser's geometry on shapes whose covered pixels are known exactly (pixel (x, y) spans
/// [x, x+1) × [y, y+1)), read back through the PNG encoder and the independent reader.</summary>
public class RasterCanvasTests
{
    private static readonly (byte, byte, byte) White = (255, 255, 255), Red = (255, 0, 0);

    private static PngReader.Image Render(int width, int height, Action<RasterCanvas> draw)
    {
        var canvas = new RasterCanvas(width, height);
        draw(canvas);
        return PngReader.Decode(canvas.ToPng());
    }

    [Fact]
    public void RectangleCoversExactlyItsPixels()
    {
        var image = Render(10, 8, c => c.FillRect(2, 3, 4, 2, "#f00"));
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 10; x++)
                Assert.Equal(x is >= 2 and < 6 && y is >= 3 and < 5 ? Red : White, image.Pixel(x, y));
    }

    [Fact]
    public void OnePixelLineOnAPixelRowIsSolidAndDashesFollowSixOnFourOff()
    {
        // y = 4.5 is the middle of row 4: a 1-pixel stroke covers that row and nothing else. Ends are round, so the
        // run is checked away from them.
        var image = Render(40, 9, c =>
        {
            c.Line(0, 4.5, 40, 4.5, "#f00");
            c.Line(0, 7.5, 40, 7.5, "#00f", dashed: true);
        });
        for (int x = 1; x < 39; x++)
        {
            Assert.Equal(Red, image.Pixel(x, 4));
            Assert.Equal(White, image.Pixel(x, 3));
            Assert.Equal(White, image.Pixel(x, 5));
            // Dash: pixels whose span lies within [0, 6) mod 10 are blue, within [6, 10) white.
            var expected = (x % 10) is >= 0 and < 6 ? ((byte)0, (byte)0, (byte)255) : White;
            Assert.Equal(expected, image.Pixel(x, 7));
        }
    }

    [Fact]
    public void HalfOpacityBlendsHalfway()
    {
        var image = Render(10, 3, c => c.Line(0, 1.5, 10, 1.5, "#000", opacity: 0.5));
        Assert.Equal(((byte)128, (byte)128, (byte)128), image.Pixel(5, 1));
    }

    [Fact]
    public void FilledCircleCoversTheDiscAndARingLeavesItsCentre()
    {
        var image = Render(40, 20, c =>
        {
            c.Circle(10, 10, 6, "#f00");
            c.Circle(30.5, 10.5, 6, null, "#f00", strokeWidth: 2);
        });
        // Pixels entirely inside / outside the disc (by their farthest / nearest corner) are pure colours.
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 20; x++)
            {
                double far = Math.Sqrt(Math.Pow(Math.Max(Math.Abs(x - 10), Math.Abs(x + 1 - 10)), 2) + Math.Pow(Math.Max(Math.Abs(y - 10), Math.Abs(y + 1 - 10)), 2));
                double near = Math.Sqrt(Math.Pow(Math.Max(0, Math.Max(10 - (x + 1), x - 10)), 2) + Math.Pow(Math.Max(0, Math.Max(10 - (y + 1), y - 10)), 2));
                if (far < 6) Assert.Equal(Red, image.Pixel(x, y));
                if (near > 6) Assert.Equal(White, image.Pixel(x, y));
            }
        // The ring (radius 6 ± 1 about a pixel centre) covers the pixels 6 away on its axes, not its middle.
        foreach (var (x, y) in new[] { (24, 10), (36, 10), (30, 4), (30, 16) }) Assert.Equal(Red, image.Pixel(x, y));
        foreach (var (x, y) in new[] { (30, 10), (27, 10), (33, 12) }) Assert.Equal(White, image.Pixel(x, y));
    }

    [Fact]
    public void TextDrawsTheGlyphPixelsAboveTheBaselineAndAnchorsWork()
    {
        // "1" with its baseline at y = 10 and its left edge at x = 3: rows 3..9 hold the glyph's 7 rows.
        var glyph = BitmapFont.Glyph('1');
        foreach (var (anchor, x) in new[] { (TextAnchor.Start, 3), (TextAnchor.Middle, 5), (TextAnchor.End, 8) })
        {
            var image = Render(12, 12, c => c.Text(x, 10, "1", anchor, "#f00"));
            for (int y = 0; y < 12; y++)
                for (int px = 0; px < 12; px++)
                {
                    bool on = y is >= 3 and < 10 && px is >= 3 and < 8 && glyph[y - 3, px - 3];
                    Assert.True((on ? Red : White) == image.Pixel(px, y), $"{anchor}: pixel ({px}, {y})");
                }
        }
    }

    [Fact]
    public void VerticalTextReadsUpwards()
    {
        // Rotated −90° about (10, 20): the glyph's top row lies at x = 10 − 7, its first column at the bottom (y = 19).
        var glyph = BitmapFont.Glyph('L');
        var image = Render(14, 24, c => c.Text(10, 20, "L", color: "#f00", vertical: true));
        for (int r = 0; r < 7; r++)
            for (int col = 0; col < 5; col++)
                Assert.Equal(glyph[r, col] ? Red : White, image.Pixel(10 - 7 + r, 19 - col));
    }

    [Fact]
    public void FontCoversPrintableAsciiWithDistinctGlyphs()
    {
        var all = Enumerable.Range(32, 95).Select(i => (char)i).ToList();
        Assert.Equal(all.Order(), BitmapFont.Characters.Order());
        var shapes = all.Where(ch => ch != ' ').Select(ch => string.Concat(BitmapFont.Glyph(ch).Cast<bool>().Select(b => b ? '#' : '.'))).ToList();
        Assert.Equal(shapes.Count, shapes.Distinct().Count());
        Assert.Same(BitmapFont.Glyph('?'), BitmapFont.Glyph('é'));
    }

    [Fact]
    public void UnknownColourIsAnError() =>
        Assert.Contains("'red' is not #rgb or #rrggbb", Assert.Throws<ArgumentException>(() => new RasterCanvas(2, 2).FillRect(0, 0, 1, 1, "red")).Message);
}
