using Distill.Design.Plot;
using Xunit;

namespace Distill.Tests.Design.Plot;

/// <summary>The SkiaSharp canvas on shapes whose covered pixels are known (pixel (x, y) spans [x, x+1) × [y, y+1);
/// edges that fall on pixel boundaries are exact even anti-aliased), read back from its PNG.</summary>
public class SkiaCanvasTests
{
    private static readonly (byte, byte, byte) White = (255, 255, 255), Red = (255, 0, 0);

    private static DecodedPng Render(int width, int height, Action<SkiaCanvas> draw)
    {
        using var canvas = new SkiaCanvas(width, height);
        draw(canvas);
        return DecodedPng.Decode(canvas.ToPng());
    }

    [Fact]
    public void BlankCanvasIsAWhitePngOfItsSize()
    {
        var image = Render(7, 5, _ => { });
        Assert.Equal((7, 5), (image.Width, image.Height));
        Assert.Equal(2, image.PngColourType); // truecolour without alpha
        Assert.All(image.All(), p => Assert.Equal(White, p));
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
        // y = 4.5 is the middle of row 4: a 1-pixel stroke covers that row and nothing else (checked away from the ends).
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
        }
        // Dashes from x = 0: [0, 6) blue, [6, 10) white, repeating.
        for (int x = 0; x < 40; x++)
            Assert.True(image.Pixel(x, 7) == (x % 10 < 6 ? ((byte)0, (byte)0, (byte)255) : White), $"dash pixel {x}");
    }

    [Fact]
    public void HalfOpacityBlendsHalfway()
    {
        var (r, g, b) = Render(10, 3, c => c.Line(0, 1.5, 10, 1.5, "#000", opacity: 0.5)).Pixel(5, 1);
        Assert.InRange(r, 126, 129);
        Assert.Equal((r, r), (g, b));
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
        foreach (var (x, y) in new[] { (24, 10), (36, 10), (30, 4), (30, 16) }) Assert.True(DecodedPng.Near(image.Pixel(x, y), "#ff0000", 40), $"ring at ({x}, {y})");
        foreach (var (x, y) in new[] { (30, 10), (27, 10), (33, 12) }) Assert.Equal(White, image.Pixel(x, y));
    }

    [Fact]
    public void PolylineJoinsItsPoints()
    {
        var image = Render(30, 30, c => c.Polyline([(2.5, 5.5), (25.5, 5.5), (25.5, 25.5)], "#f00"));
        for (int x = 3; x < 25; x++) Assert.Equal(Red, image.Pixel(x, 5));
        for (int y = 6; y < 25; y++) Assert.Equal(Red, image.Pixel(25, y));
        Assert.Equal(White, image.Pixel(10, 15));
    }

    [Fact]
    public void TextInksAboveTheBaselineOnTheAnchoredSide()
    {
        // The x extent of the inked pixels of "Wide text" drawn at x = 100 on the baseline y = 100, per anchor.
        (int Min, int Max, int Top, int Bottom) Ink(TextAnchor anchor, bool vertical = false)
        {
            var image = Render(200, 200, c => c.Text(100, 100, "Wide text", anchor, "#000", 14, vertical));
            var inked = Enumerable.Range(0, 200 * 200).Select(i => (X: i % 200, Y: i / 200)).Where(p => image.Pixel(p.X, p.Y).R < 128).ToList();
            Assert.True(inked.Count > 20, $"{anchor}: no text drawn (is there a system font?)");
            return (inked.Min(p => p.X), inked.Max(p => p.X), inked.Min(p => p.Y), inked.Max(p => p.Y));
        }

        var start = Ink(TextAnchor.Start);
        Assert.True(start.Min >= 99 && start.Max > 130, $"start: {start}");
        Assert.True(start.Bottom <= 101 && start.Top >= 85, $"start rows: {start}"); // above the baseline, about 14 px high
        var end = Ink(TextAnchor.End);
        Assert.True(end.Max <= 101 && end.Min < 70, $"end: {end}");
        var middle = Ink(TextAnchor.Middle);
        Assert.True(middle.Min < 90 && middle.Max > 110 && Math.Abs(middle.Min + middle.Max - 200) <= 4, $"middle: {middle}");
        // Vertical text reads upwards from the anchor: tall and narrow, left of x (its glyphs' tops point left), above y.
        var up = Ink(TextAnchor.Start, vertical: true);
        Assert.True(up.Bottom - up.Top > 30 && up.Max - up.Min < 20 && up.Max <= 101 && up.Bottom <= 101, $"vertical: {up}");
    }

    [Fact]
    public void UnknownColourIsAnError()
    {
        using var canvas = new SkiaCanvas(2, 2);
        Assert.Contains("'red' is not #rgb or #rrggbb", Assert.Throws<ArgumentException>(() => canvas.FillRect(0, 0, 1, 1, "red")).Message);
        Assert.Throws<ArgumentException>(() => canvas.FillRect(0, 0, 1, 1, "#80ff0000"));
    }
}
