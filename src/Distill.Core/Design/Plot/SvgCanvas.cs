using System.Globalization;
using System.Security;
using System.Text;

namespace Distill.Design.Plot;

/// <summary>An <see cref="IPlotCanvas"/> that writes a standalone SVG document (sans-serif, 12 px by default).</summary>
public sealed class SvgCanvas : IPlotCanvas
{
    private readonly StringBuilder _body = new();

    public SvgCanvas(int width, int height)
    {
        Width = width;
        Height = height;
    }

    public int Width { get; }

    public int Height { get; }

    public void BeginGroup(string id) => _body.Append(Inv($"<g id=\"{Esc(id)}\">\n"));

    public void EndGroup() => _body.Append("</g>\n");

    public void FillRect(double x, double y, double width, double height, string color) =>
        _body.Append(Inv($"<rect x=\"{x:0.#}\" y=\"{y:0.#}\" width=\"{width:0.#}\" height=\"{height:0.#}\" fill=\"{color}\"/>\n"));

    public void Line(double x1, double y1, double x2, double y2, string color, double width = 1, double opacity = 1, bool dashed = false)
    {
        _body.Append(Inv($"<line x1=\"{x1:0.0}\" y1=\"{y1:0.0}\" x2=\"{x2:0.0}\" y2=\"{y2:0.0}\" stroke=\"{color}\""));
        if (width != 1) _body.Append(Inv($" stroke-width=\"{width:0.##}\""));
        if (opacity != 1) _body.Append(Inv($" stroke-opacity=\"{opacity:0.##}\""));
        if (dashed) _body.Append(" stroke-dasharray=\"6 4\"");
        _body.Append("/>\n");
    }

    public void Polyline(IReadOnlyList<(double X, double Y)> points, string color, double width = 1) =>
        _body.Append(Inv($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{width:0.##}\" points=\"{string.Join(" ", points.Select(p => Inv($"{p.X:0.0},{p.Y:0.0}")))}\"/>\n"));

    public void Circle(double cx, double cy, double r, string? fill, string? stroke = null, double strokeWidth = 1, string? tooltip = null)
    {
        _body.Append(Inv($"<circle cx=\"{cx:0.0}\" cy=\"{cy:0.0}\" r=\"{r:0.##}\" fill=\"{fill ?? "none"}\""));
        if (stroke is not null) _body.Append(Inv($" stroke=\"{stroke}\""));
        if (stroke is not null && strokeWidth != 1) _body.Append(Inv($" stroke-width=\"{strokeWidth:0.##}\""));
        _body.Append(tooltip is null ? "/>\n" : $"><title>{Esc(tooltip)}</title></circle>\n");
    }

    public void Text(double x, double y, string text, TextAnchor anchor = TextAnchor.Start, string color = "#000", double size = 12, bool vertical = false)
    {
        string position = vertical ? Inv($"transform=\"translate({x:0.0} {y:0.0}) rotate(-90)\"") : Inv($"x=\"{x:0.0}\" y=\"{y:0.0}\"");
        _body.Append(Inv($"<text {position}"));
        if (anchor != TextAnchor.Start) _body.Append(anchor == TextAnchor.Middle ? " text-anchor=\"middle\"" : " text-anchor=\"end\"");
        if (color != "#000") _body.Append(Inv($" fill=\"{color}\""));
        if (size != 12) _body.Append(Inv($" font-size=\"{size:0.##}\""));
        _body.Append(Inv($">{Esc(text)}</text>\n"));
    }

    /// <summary>The SVG document.</summary>
    public override string ToString() =>
        Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n") +
        _body + "</svg>\n";

    private static string Esc(string text) => SecurityElement.Escape(text) ?? "";

    private static string Inv(FormattableString f) => f.ToString(CultureInfo.InvariantCulture);
}
