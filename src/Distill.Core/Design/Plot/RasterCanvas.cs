using System.Globalization;

namespace Distill.Design.Plot;

/// <summary>
/// An <see cref="IPlotCanvas"/> that draws into an RGB pixel buffer, for the PNG version of a plot (TensorBoard shows
/// images, not SVG). Shapes are rasterised by distance — a pixel is painted when its centre lies within half the stroke
/// width of the segment or circle — on a grid <see cref="Supersample"/> times finer than the output, which is then
/// box-filtered down: cheap anti-aliasing. Text uses <see cref="BitmapFont"/> at 1 output pixel per font pixel (2 for
/// sizes of 14 and more when the text fits), snapped to whole output pixels so it stays sharp after the filter.
/// </summary>
public sealed class RasterCanvas : IPlotCanvas
{
    /// <summary>Samples per output pixel along each axis.</summary>
    public const int Supersample = 3;

    private readonly int _sw, _sh;
    private readonly byte[] _samples;

    public RasterCanvas(int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"RasterCanvas: {width}x{height} has no pixels.");
        Width = width;
        Height = height;
        _sw = width * Supersample;
        _sh = height * Supersample;
        _samples = new byte[3L * _sw * _sh];
        Array.Fill(_samples, (byte)255);
    }

    public int Width { get; }

    public int Height { get; }

    public void BeginGroup(string id) { }

    public void EndGroup() { }

    public void FillRect(double x, double y, double width, double height, string color)
    {
        var rgb = Parse(color);
        const int s = Supersample;
        // Samples whose centre (i + 0.5) lies in [x, x + width) in output units.
        int i0 = Math.Max(0, (int)Math.Ceiling(x * s - 0.5)), i1 = Math.Min(_sw, (int)Math.Ceiling((x + width) * s - 0.5));
        int j0 = Math.Max(0, (int)Math.Ceiling(y * s - 0.5)), j1 = Math.Min(_sh, (int)Math.Ceiling((y + height) * s - 0.5));
        for (int j = j0; j < j1; j++)
            for (int i = i0; i < i1; i++) Paint(i, j, rgb, 1);
    }

    public void Line(double x1, double y1, double x2, double y2, string color, double width = 1, double opacity = 1, bool dashed = false)
    {
        var rgb = Parse(color);
        const int s = Supersample;
        double ax = x1 * s, ay = y1 * s, dx = (x2 - x1) * s, dy = (y2 - y1) * s, half = width * s / 2;
        double len2 = dx * dx + dy * dy, length = Math.Sqrt(len2) / s;
        int i0 = Math.Max(0, (int)Math.Floor(Math.Min(ax, ax + dx) - half)), i1 = Math.Min(_sw - 1, (int)Math.Ceiling(Math.Max(ax, ax + dx) + half));
        int j0 = Math.Max(0, (int)Math.Floor(Math.Min(ay, ay + dy) - half)), j1 = Math.Min(_sh - 1, (int)Math.Ceiling(Math.Max(ay, ay + dy) + half));
        for (int j = j0; j <= j1; j++)
            for (int i = i0; i <= i1; i++)
            {
                double px = i + 0.5 - ax, py = j + 0.5 - ay;
                double t = len2 == 0 ? 0 : Math.Clamp((px * dx + py * dy) / len2, 0, 1);
                double ex = px - t * dx, ey = py - t * dy;
                if (ex * ex + ey * ey > half * half) continue;
                if (dashed && (t * length) % 10 >= 6) continue; // 6 on, 4 off, in output pixels
                Paint(i, j, rgb, opacity);
            }
    }

    public void Polyline(IReadOnlyList<(double X, double Y)> points, string color, double width = 1)
    {
        for (int k = 1; k < points.Count; k++) Line(points[k - 1].X, points[k - 1].Y, points[k].X, points[k].Y, color, width);
    }

    public void Circle(double cx, double cy, double r, string? fill, string? stroke = null, double strokeWidth = 1, string? tooltip = null)
    {
        const int s = Supersample;
        var fillRgb = fill is null ? default((byte, byte, byte)?) : Parse(fill);
        var strokeRgb = stroke is null ? default((byte, byte, byte)?) : Parse(stroke);
        double x = cx * s, y = cy * s, radius = r * s, half = strokeWidth * s / 2, reach = radius + (stroke is null ? 0 : half);
        int i0 = Math.Max(0, (int)Math.Floor(x - reach)), i1 = Math.Min(_sw - 1, (int)Math.Ceiling(x + reach));
        int j0 = Math.Max(0, (int)Math.Floor(y - reach)), j1 = Math.Min(_sh - 1, (int)Math.Ceiling(y + reach));
        for (int j = j0; j <= j1; j++)
            for (int i = i0; i <= i1; i++)
            {
                double d = Math.Sqrt((i + 0.5 - x) * (i + 0.5 - x) + (j + 0.5 - y) * (j + 0.5 - y));
                if (fillRgb is { } f && d <= radius) Paint(i, j, f, 1);
                if (strokeRgb is { } k && Math.Abs(d - radius) <= half) Paint(i, j, k, 1);
            }
    }

    public void Text(double x, double y, string text, TextAnchor anchor = TextAnchor.Start, string color = "#000", double size = 12, bool vertical = false)
    {
        int scale = size >= 14 && BitmapFont.Measure(text) * 2 <= (vertical ? Height : Width) - 16 ? 2 : 1;
        int extent = BitmapFont.Measure(text) * scale;
        int along = anchor switch { TextAnchor.Middle => -extent / 2, TextAnchor.End => -extent, _ => 0 };
        int ox = (int)Math.Round(x), oy = (int)Math.Round(y);
        for (int k = 0; k < text.Length; k++)
        {
            var glyph = BitmapFont.Glyph(text[k]);
            for (int r = 0; r < glyph.GetLength(0); r++)
                for (int c = 0; c < BitmapFont.GlyphWidth; c++)
                {
                    if (!glyph[r, c]) continue;
                    int u = along + (k * BitmapFont.Advance + c) * scale, v = (r - BitmapFont.Ascent) * scale; // v: from the baseline, down
                    if (vertical) FillRect(ox + v, oy - u - scale, scale, scale, color); // rotated −90°: along the text is up
                    else FillRect(ox + u, oy + v, scale, scale, color);
                }
        }
    }

    /// <summary>The image: <see cref="Height"/> rows, top first, of <see cref="Width"/> RGB pixels, each the mean of its
    /// <see cref="Supersample"/>² samples.</summary>
    public byte[] ToRgb()
    {
        const int s = Supersample;
        var rgb = new byte[3L * Width * Height];
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                for (int ch = 0; ch < 3; ch++)
                {
                    int sum = 0;
                    for (int j = 0; j < s; j++)
                        for (int i = 0; i < s; i++) sum += _samples[3 * ((y * s + j) * (long)_sw + x * s + i) + ch];
                    rgb[3 * ((long)y * Width + x) + ch] = (byte)((sum + s * s / 2) / (s * s));
                }
        return rgb;
    }

    public byte[] ToPng() => PngEncoder.EncodeRgb(Width, Height, ToRgb());

    private void Paint(int i, int j, (byte R, byte G, byte B) c, double opacity)
    {
        long o = 3 * ((long)j * _sw + i);
        _samples[o] = Blend(_samples[o], c.R, opacity);
        _samples[o + 1] = Blend(_samples[o + 1], c.G, opacity);
        _samples[o + 2] = Blend(_samples[o + 2], c.B, opacity);
    }

    private static byte Blend(byte under, byte over, double alpha) => (byte)Math.Round(under + (over - under) * alpha);

    /// <summary><c>#rgb</c> or <c>#rrggbb</c>.</summary>
    private static (byte R, byte G, byte B) Parse(string color)
    {
        string hex = color.StartsWith('#') ? color[1..] : "";
        if (hex.Length == 3) hex = string.Concat(hex.Select(ch => new string(ch, 2)));
        if (hex.Length != 6 || !int.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int v))
            throw new ArgumentException($"RasterCanvas: colour '{color}' is not #rgb or #rrggbb.", nameof(color));
        return ((byte)(v >> 16), (byte)(v >> 8), (byte)v);
    }
}
