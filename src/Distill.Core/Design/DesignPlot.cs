using System.Globalization;
using System.Security;
using System.Text;

namespace Distill.Design;

/// <summary>
/// The design plot as a standalone SVG (no plotting dependency): latency per batch (y) against parameters (x, log scale
/// when they span more than a decade), measured candidates as filled dots with their interquartile range, predicted ones
/// as hollow circles (whiskers are clipped at the top of the plot), the Pareto front (most capacity for the latency) as a line, the budget as a dashed horizontal line
/// and the pick (and a comparison pick, if any) ringed and labelled.
/// </summary>
public static class DesignPlot
{
    private const int Width = 760, Height = 480, Left = 80, Right = 24, Top = 48, Bottom = 64;

    public static string Svg(DesignProfile profile, DesignOutcome outcome, double budgetMs, string title, DesignOutcome? comparison = null)
    {
        var points = profile.Candidates.Select(c => (c, ms: profile.Expected(c), measured: profile.Measured.ContainsKey(c.Index))).ToList();
        double xMin = points.Min(p => (double)p.c.Params), xMax = points.Max(p => (double)p.c.Params);
        // Scaled to the latencies and the budget; IQR whiskers longer than that (a busy machine) are clipped at the top.
        double yMax = Math.Max(points.Max(p => p.ms), budgetMs) * 1.12;
        bool logX = xMax / Math.Max(1, xMin) > 10;
        Func<double, double> fx = logX
            ? v => Left + (Math.Log10(v) - Math.Log10(xMin)) / Math.Max(1e-9, Math.Log10(xMax) - Math.Log10(xMin)) * (Width - Left - Right)
            : v => Left + (v - xMin) / Math.Max(1e-9, xMax - xMin) * (Width - Left - Right);
        if (xMax == xMin) fx = _ => Left + (Width - Left - Right) / 2.0;
        double Y(double ms) => Height - Bottom - Math.Min(ms, yMax) / yMax * (Height - Top - Bottom);

        var s = new StringBuilder();
        s.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        s.Append(Inv($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n"));
        s.Append(Inv($"<text x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Esc(title)}</text>\n"));
        s.Append(Inv($"<text x=\"{Width / 2}\" y=\"38\" text-anchor=\"middle\" fill=\"#555\">{Esc(profile.Shape.ToString())}; latency model MdAPE {Fmt(profile.Holdout.MedianPct, "0.0")}% on held-out points</text>\n"));

        // Axes, ticks and labels.
        s.Append(Inv($"<g stroke=\"#333\"><line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\"/><line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\"/></g>\n"));
        foreach (double t in XTicks(xMin, xMax, logX))
        {
            double x = fx(t);
            s.Append(Inv($"<line x1=\"{x:0.0}\" y1=\"{Height - Bottom}\" x2=\"{x:0.0}\" y2=\"{Height - Bottom + 5}\" stroke=\"#333\"/><text x=\"{x:0.0}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{Esc(Count(t))}</text>\n"));
        }
        foreach (double t in Nice(0, yMax, 6))
        {
            double y = Y(t);
            s.Append(Inv($"<line x1=\"{Left - 5}\" y1=\"{y:0.0}\" x2=\"{Width - Right}\" y2=\"{y:0.0}\" stroke=\"#eee\"/><text x=\"{Left - 8}\" y=\"{y + 4:0.0}\" text-anchor=\"end\">{t.ToString("0.###", CultureInfo.InvariantCulture)}</text>\n"));
        }
        s.Append(Inv($"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 18}\" text-anchor=\"middle\">parameters{(logX ? " (log scale)" : "")}</text>\n"));
        s.Append(Inv($"<text transform=\"translate(20 {(Top + Height - Bottom) / 2}) rotate(-90)\" text-anchor=\"middle\">latency per batch (ms)</text>\n"));

        // Budget line.
        double by = Y(budgetMs);
        s.Append(Inv($"<g id=\"budget\"><line x1=\"{Left}\" y1=\"{by:0.0}\" x2=\"{Width - Right}\" y2=\"{by:0.0}\" stroke=\"#c00\" stroke-dasharray=\"6 4\"/><text x=\"{Width - Right - 4}\" y=\"{by - 5:0.0}\" text-anchor=\"end\" fill=\"#c00\">budget {budgetMs.ToString("0.###", CultureInfo.InvariantCulture)} ms</text></g>\n"));

        // Points: predicted hollow, measured filled with IQR whiskers.
        s.Append("<g id=\"candidates\">\n");
        foreach (var (c, ms, measured) in points.OrderBy(p => p.measured))
        {
            double x = fx(c.Params), y = Y(ms);
            if (measured)
            {
                var m = profile.Measured[c.Index];
                s.Append(Inv($"<line x1=\"{x:0.0}\" y1=\"{Y(m.P25Ms):0.0}\" x2=\"{x:0.0}\" y2=\"{Y(m.P75Ms):0.0}\" stroke=\"#1f77b4\" stroke-opacity=\"0.6\"/>"));
                s.Append(Inv($"<circle cx=\"{x:0.0}\" cy=\"{y:0.0}\" r=\"3.5\" fill=\"#1f77b4\"><title>{Esc(c.Label)}: {ms:0.###} ms measured, {c.Params:N0} params</title></circle>\n"));
            }
            else
                s.Append(Inv($"<circle cx=\"{x:0.0}\" cy=\"{y:0.0}\" r=\"3\" fill=\"none\" stroke=\"#999\"><title>{Esc(c.Label)}: {ms:0.###} ms predicted, {c.Params:N0} params</title></circle>\n"));
        }
        s.Append("</g>\n");

        // Pareto front (by expected latency, on total parameters for the x axis).
        var front = DesignSearch.ParetoFront(profile.Candidates, profile.Expected).OrderBy(c => c.Params).ToList();
        if (front.Count > 1)
            s.Append(Inv($"<polyline id=\"pareto\" fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"1.5\" points=\"{string.Join(" ", front.Select(c => Inv($"{fx(c.Params):0.0},{Y(profile.Expected(c)):0.0}")))}\"/>\n"));

        Mark(s, outcome.Pick, profile, fx, Y, "#d62728", $"pick ({KindName(outcome.Kind)}): {outcome.Pick.Label}", "pick", 0);
        if (comparison is not null && comparison.Pick.Index != outcome.Pick.Index)
            Mark(s, comparison.Pick, profile, fx, Y, "#9467bd", $"{KindName(comparison.Kind)}: {comparison.Pick.Label}", "comparison", 1);

        // Legend.
        int ly = Top + 4;
        s.Append(Inv($"<g id=\"legend\" font-size=\"11\"><circle cx=\"{Left + 14}\" cy=\"{ly}\" r=\"3.5\" fill=\"#1f77b4\"/><text x=\"{Left + 22}\" y=\"{ly + 4}\">measured (median, IQR)</text>"));
        s.Append(Inv($"<circle cx=\"{Left + 174}\" cy=\"{ly}\" r=\"3\" fill=\"none\" stroke=\"#999\"/><text x=\"{Left + 182}\" y=\"{ly + 4}\">predicted</text>"));
        s.Append(Inv($"<line x1=\"{Left + 252}\" y1=\"{ly}\" x2=\"{Left + 272}\" y2=\"{ly}\" stroke=\"#2ca02c\" stroke-width=\"1.5\"/><text x=\"{Left + 278}\" y=\"{ly + 4}\">Pareto front</text></g>\n"));
        s.Append("</svg>\n");
        return s.ToString();
    }

    private static void Mark(StringBuilder s, Candidate c, DesignProfile profile, Func<double, double> fx, Func<double, double> y, string color, string text, string id, int row)
    {
        double px = fx(c.Params), py = y(profile.Expected(c));
        string anchor = px > Width * 0.6 ? "end" : "start";
        double tx = anchor == "end" ? px - 10 : px + 10;
        s.Append(Inv($"<g id=\"{id}\"><circle cx=\"{px:0.0}\" cy=\"{py:0.0}\" r=\"8\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>"));
        s.Append(Inv($"<text x=\"{tx:0.0}\" y=\"{py - 10 - 14 * row:0.0}\" text-anchor=\"{anchor}\" fill=\"{color}\">{Esc(text)} ({profile.Expected(c):0.###} ms)</text></g>\n"));
    }

    private static string KindName(PickKind kind) => kind switch
    {
        PickKind.ParamRule => "parameter rule",
        PickKind.Proxy => "proxy",
        _ => "capacity",
    };

    private static IEnumerable<double> XTicks(double min, double max, bool log)
    {
        if (!log) return Nice(min, max, 6).Where(t => t >= min && t <= max);
        var ticks = new List<double>();
        for (double d = Math.Pow(10, Math.Floor(Math.Log10(min))); d <= max * 1.0001; d *= 10)
            foreach (double m in new[] { 1.0, 2, 5 })
                if (d * m >= min * 0.9999 && d * m <= max * 1.0001) ticks.Add(d * m);
        return ticks;
    }

    private static IEnumerable<double> Nice(double min, double max, int count)
    {
        double span = Math.Max(1e-12, max - min), raw = span / count, mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 2.5, 5, 10 }.Select(f => f * mag).First(v => v >= raw);
        for (double t = Math.Ceiling(min / step) * step; t <= max + 1e-9; t += step) yield return Math.Round(t, 10);
    }

    private static string Count(double v) => v switch
    {
        >= 1e6 => (v / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 1e3 => (v / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + "k",
        _ => v.ToString("0", CultureInfo.InvariantCulture),
    };

    private static string Fmt(double v, string format) => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private static string Esc(string text) => SecurityElement.Escape(text) ?? "";

    private static string Inv(FormattableString f) => f.ToString(CultureInfo.InvariantCulture);
}
