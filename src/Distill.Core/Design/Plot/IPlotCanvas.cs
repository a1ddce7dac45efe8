namespace Distill.Design.Plot;

/// <summary>
/// The drawing primitives a plot needs, in pixels with y down (SVG's user space), so one drawing routine produces both
/// the SVG and the PNG version of a plot and they cannot drift apart. Colours are <c>#rgb</c> or
/// <c>#rrggbb</c>; text positions name the baseline.
/// </summary>
public interface IPlotCanvas
{
    int Width { get; }

    int Height { get; }

    /// <summary>Starts a named group (an SVG <c>&lt;g id&gt;</c>; nothing in the PNG).</summary>
    void BeginGroup(string id);

    void EndGroup();

    void FillRect(double x, double y, double width, double height, string color);

    /// <summary>A straight stroke with round ends; <paramref name="dashed"/> is a 6-on 4-off pattern.</summary>
    void Line(double x1, double y1, double x2, double y2, string color, double width = 1, double opacity = 1, bool dashed = false);

    void Polyline(IReadOnlyList<(double X, double Y)> points, string color, double width = 1);

    /// <summary>A circle filled with <paramref name="fill"/> and/or outlined with <paramref name="stroke"/> (null: none);
    /// <paramref name="tooltip"/> is an SVG <c>&lt;title&gt;</c>.</summary>
    void Circle(double cx, double cy, double r, string? fill, string? stroke = null, double strokeWidth = 1, string? tooltip = null);

    /// <summary>Text with its baseline at <paramref name="y"/>; <paramref name="vertical"/> turns it to read upwards
    /// (rotated −90° about the anchor point).</summary>
    void Text(double x, double y, string text, TextAnchor anchor = TextAnchor.Start, string color = "#000", double size = 12, bool vertical = false);
}
