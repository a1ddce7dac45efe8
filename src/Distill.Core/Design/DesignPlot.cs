using System.Globalization;
using Distill.Design.Plot;

namespace Distill.Design;

/// <summary>
/// The design plot: latency per batch (y) against parameters (x, log scale when they span more than a decade),
/// measured candidates as filled dots with their interquartile range, predicted ones as hollow circles (whiskers are
/// clipped at the top of the plot), the Pareto front (most capacity for the latency) as a line, the budget
/// as a dashed horizontal line and the pick (and a comparison pick, if any) ringed and labelled. One drawing routine
/// (<see cref="Draw"/>) feeds both outputs — <see cref="Svg"/> for the run folder and <see cref="Png"/> for the run folder
/// and TensorBoard's image dashboard — so they show the same plot.
/// </summary>
public static class DesignPlot
{
    public const int Width = 760, Height = 480;
    private const int Left = 80, Right = 24, Top = 48, Bottom = 64;

    public static string Svg(DesignProfile profile, DesignOutcome outcome, double budgetMs, string title, DesignOutcome? comparison = null)
    {
        var canvas = new SvgCanvas(Width, Height);
        Draw(canvas, profile, outcome, budgetMs, title, comparison);
        return canvas.ToString();
    }

    /// <summary>The plot as a <see cref="Width"/>×<see cref="Height"/> PNG, drawn by SkiaSharp.</summary>
    public static byte[] Png(DesignProfile profile, DesignOutcome outcome, double budgetMs, string title, DesignOutcome? comparison = null)
    {
        using var canvas = new SkiaCanvas(Width, Height);
        Draw(canvas, profile, outcome, budgetMs, title, comparison);
        return canvas.ToPng();
    }

    public static void Draw(IPlotCanvas canvas, DesignProfile profile, DesignOutcome outcome, double budgetMs, string title, DesignOutcome? comparison = null)
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

        canvas.FillRect(0, 0, Width, Height, "#fff");
        canvas.Text(Width / 2, 22, title, TextAnchor.Middle, size: 15);
        canvas.Text(Width / 2, 38, $"{profile.Shape}; latency model MdAPE {Fmt(profile.Holdout.MedianPct, "0.0")}% on held-out points", TextAnchor.Middle, "#555");

        // Grid, ticks, labels, then the axes over them.
        foreach (double t in Nice(0, yMax, 6))
        {
            double y = Y(t);
            canvas.Line(Left - 5, y, Width - Right, y, "#eee");
            canvas.Text(Left - 8, y + 4, t.ToString("0.###", CultureInfo.InvariantCulture), TextAnchor.End);
        }
        foreach (double t in XTicks(xMin, xMax, logX))
        {
            double x = fx(t);
            canvas.Line(x, Height - Bottom, x, Height - Bottom + 5, "#333");
            canvas.Text(x, Height - Bottom + 18, Count(t), TextAnchor.Middle);
        }
        canvas.Line(Left, Height - Bottom, Width - Right, Height - Bottom, "#333");
        canvas.Line(Left, Top, Left, Height - Bottom, "#333");
        canvas.Text((Left + Width - Right) / 2, Height - 18, "parameters" + (logX ? " (log scale)" : ""), TextAnchor.Middle);
        canvas.Text(20, (Top + Height - Bottom) / 2, "latency per batch (ms)", TextAnchor.Middle, vertical: true);

        // Budget line.
        double by = Y(budgetMs);
        canvas.BeginGroup("budget");
        canvas.Line(Left, by, Width - Right, by, "#c00", dashed: true);
        canvas.Text(Width - Right - 4, by - 5, $"budget {budgetMs.ToString("0.###", CultureInfo.InvariantCulture)} ms", TextAnchor.End, "#c00");
        canvas.EndGroup();

        // Points: predicted hollow, measured filled with IQR whiskers.
        canvas.BeginGroup("candidates");
        foreach (var (c, ms, measured) in points.OrderBy(p => p.measured))
        {
            double x = fx(c.Params), y = Y(ms);
            if (measured)
            {
                var m = profile.Measured[c.Index];
                canvas.Line(x, Y(m.P25Ms), x, Y(m.P75Ms), "#1f77b4", opacity: 0.6);
                canvas.Circle(x, y, 3.5, "#1f77b4", tooltip: Inv($"{c.Label}: {ms:0.###} ms measured, {c.Params:N0} params"));
            }
            else
                canvas.Circle(x, y, 3, null, "#999", tooltip: Inv($"{c.Label}: {ms:0.###} ms predicted, {c.Params:N0} params"));
        }
        canvas.EndGroup();

        // Pareto front (by expected latency, on total parameters for the x axis).
        var front = DesignSearch.ParetoFront(profile.Candidates, profile.Expected).OrderBy(c => c.Params).ToList();
        if (front.Count > 1)
        {
            canvas.BeginGroup("pareto");
            canvas.Polyline(front.Select(c => (fx(c.Params), Y(profile.Expected(c)))).ToList(), "#2ca02c", 1.5);
            canvas.EndGroup();
        }

        Mark(canvas, outcome.Pick, profile, fx, Y, "#d62728", $"pick ({KindName(outcome.Kind)}): {outcome.Pick.Label}", "pick", 0);
        if (comparison is not null && comparison.Pick.Index != outcome.Pick.Index)
            Mark(canvas, comparison.Pick, profile, fx, Y, "#9467bd", $"{KindName(comparison.Kind)}: {comparison.Pick.Label}", "comparison", 1);

        // Legend.
        int ly = Top + 4;
        canvas.BeginGroup("legend");
        canvas.Circle(Left + 14, ly, 3.5, "#1f77b4");
        canvas.Text(Left + 22, ly + 4, "measured (median, IQR)", size: 11);
        canvas.Circle(Left + 174, ly, 3, null, "#999");
        canvas.Text(Left + 182, ly + 4, "predicted", size: 11);
        canvas.Line(Left + 252, ly, Left + 272, ly, "#2ca02c", 1.5);
        canvas.Text(Left + 278, ly + 4, "Pareto front", size: 11);
        canvas.EndGroup();
    }

    private static void Mark(IPlotCanvas canvas, Candidate c, DesignProfile profile, Func<double, double> fx, Func<double, double> y, string color, string text, string id, int row)
    {
        double px = fx(c.Params), py = y(profile.Expected(c));
        bool right = px > Width * 0.6;
        canvas.BeginGroup(id);
        canvas.Circle(px, py, 8, null, color, 2);
        canvas.Text(right ? px - 10 : px + 10, py - 10 - 14 * row, Inv($"{text} ({profile.Expected(c):0.###} ms)"), right ? TextAnchor.End : TextAnchor.Start, color);
        canvas.EndGroup();
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

    private static string Inv(FormattableString f) => f.ToString(CultureInfo.InvariantCulture);
}
