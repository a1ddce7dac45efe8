using SkiaSharp;

namespace Distill.Design.Plot;

/// <summary>
/// An <see cref="IPlotCanvas"/> that draws with SkiaSharp (anti-aliased) onto an opaque white surface, for the PNG
/// (RGB) version of a plot: TensorBoard shows images, not SVG. Text is DejaVu Sans at the SVG's pixel sizes, embedded
/// in the assembly (Fonts/DejaVuSans.ttf, with its licence beside it): SkiaSharp's fontconfig-free natives find no
/// font on a machine without one installed, and the same font everywhere draws the same picture.
/// </summary>
public sealed class SkiaCanvas : IPlotCanvas, IDisposable
{
    private static readonly Lazy<SKTypeface> SansSerif = new(() =>
    {
        using var font = typeof(SkiaCanvas).Assembly.GetManifestResourceStream("Distill.Design.Plot.Fonts.DejaVuSans.ttf")
                         ?? throw new InvalidOperationException("Distill.Core was built without its embedded font Design/Plot/Fonts/DejaVuSans.ttf.");
        return SKTypeface.FromStream(font) ?? throw new InvalidOperationException("SkiaSharp cannot read the embedded DejaVuSans.ttf.");
    });

    private readonly SKSurface _surface;

    public SkiaCanvas(int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"SkiaCanvas: {width}x{height} has no pixels.");
        Width = width;
        Height = height;
        _surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque))
                   ?? throw new InvalidOperationException($"SkiaCanvas: SkiaSharp could not create a {width}x{height} surface.");
        _surface.Canvas.Clear(SKColors.White);
    }

    public int Width { get; }

    public int Height { get; }

    private SKCanvas Canvas => _surface.Canvas;

    public void BeginGroup(string id) { }

    public void EndGroup() { }

    public void FillRect(double x, double y, double width, double height, string color)
    {
        using var paint = new SKPaint { Color = Parse(color), Style = SKPaintStyle.Fill, IsAntialias = true };
        Canvas.DrawRect((float)x, (float)y, (float)width, (float)height, paint);
    }

    public void Line(double x1, double y1, double x2, double y2, string color, double width = 1, double opacity = 1, bool dashed = false)
    {
        using var dash = dashed ? SKPathEffect.CreateDash([6, 4], 0) : null;
        using var paint = Stroke(Parse(color).WithAlpha((byte)Math.Round(255 * Math.Clamp(opacity, 0, 1))), width);
        // Dashes keep butt ends so that their lengths are the SVG's 6 on, 4 off; solid strokes are round-ended like the SVG's.
        if (dash is not null)
        {
            paint.PathEffect = dash;
            paint.StrokeCap = SKStrokeCap.Butt;
        }
        Canvas.DrawLine((float)x1, (float)y1, (float)x2, (float)y2, paint);
    }

    public void Polyline(IReadOnlyList<(double X, double Y)> points, string color, double width = 1)
    {
        if (points.Count < 2) return;
        using var path = new SKPath();
        path.MoveTo((float)points[0].X, (float)points[0].Y);
        for (int k = 1; k < points.Count; k++) path.LineTo((float)points[k].X, (float)points[k].Y);
        using var paint = Stroke(Parse(color), width);
        Canvas.DrawPath(path, paint);
    }

    public void Circle(double cx, double cy, double r, string? fill, string? stroke = null, double strokeWidth = 1, string? tooltip = null)
    {
        if (fill is not null)
        {
            using var paint = new SKPaint { Color = Parse(fill), Style = SKPaintStyle.Fill, IsAntialias = true };
            Canvas.DrawCircle((float)cx, (float)cy, (float)r, paint);
        }
        if (stroke is not null)
        {
            using var paint = Stroke(Parse(stroke), strokeWidth);
            Canvas.DrawCircle((float)cx, (float)cy, (float)r, paint);
        }
    }

    public void Text(double x, double y, string text, TextAnchor anchor = TextAnchor.Start, string color = "#000", double size = 12, bool vertical = false)
    {
        using var paint = new SKPaint
        {
            Color = Parse(color), IsAntialias = true, Typeface = SansSerif.Value, TextSize = (float)size,
            TextAlign = anchor switch { TextAnchor.Middle => SKTextAlign.Center, TextAnchor.End => SKTextAlign.Right, _ => SKTextAlign.Left },
        };
        Canvas.Save();
        Canvas.Translate((float)x, (float)y);
        if (vertical) Canvas.RotateDegrees(-90);
        Canvas.DrawText(text, 0, 0, paint);
        Canvas.Restore();
    }

    /// <summary>The image as a PNG (8-bit RGB).</summary>
    public byte[] ToPng()
    {
        using var image = _surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public void Dispose() => _surface.Dispose();

    private static SKPaint Stroke(SKColor color, double width) => new()
    {
        Color = color, Style = SKPaintStyle.Stroke, StrokeWidth = (float)width, StrokeCap = SKStrokeCap.Round,
        StrokeJoin = SKStrokeJoin.Round, IsAntialias = true,
    };

    /// <summary><c>#rgb</c> or <c>#rrggbb</c>, as the SVG writes them (SkiaSharp's parser would also take alpha forms).</summary>
    private static SKColor Parse(string color)
    {
        if (color.Length is not (4 or 7) || color[0] != '#' || !SKColor.TryParse(color, out var parsed))
            throw new ArgumentException($"SkiaCanvas: colour '{color}' is not #rgb or #rrggbb.", nameof(color));
        return parsed;
    }
}
