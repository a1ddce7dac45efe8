using System.Globalization;
using Distill.Design.Plot;

namespace Distill.Training;

/// <summary>
/// A confusion matrix drawn as a heat map (rows: true class, columns: predicted), for <c>distill eval</c>'s PNG: each
/// cell's shade is its share of its row (the recall of the true class when on the diagonal), so classes of different
/// sizes read alike, and each cell shows its count. Drawn on an <see cref="IPlotCanvas"/>, so the SVG and PNG agree.
/// </summary>
public static class ConfusionMatrixPlot
{
    private const double Margin = 16, TitleHeight = 28, AxisTitle = 18, CharWidth = 7;

    /// <summary>The side of one cell in pixels for <paramref name="classes"/> classes (smaller for many classes).</summary>
    public static int CellSize(int classes) => classes <= 10 ? 48 : classes <= 30 ? 28 : 16;

    /// <summary>The canvas size the plot needs.</summary>
    public static (int Width, int Height) Size(IReadOnlyList<string> classNames)
    {
        int n = classNames.Count, cell = CellSize(n);
        double labels = LabelWidth(classNames);
        return ((int)Math.Ceiling(Margin + AxisTitle + labels + n * cell + Margin),
                (int)Math.Ceiling(TitleHeight + labels + n * cell + AxisTitle + Margin));
    }

    /// <summary>The top-left corner of the cell of true class <paramref name="label"/> and prediction <paramref name="predicted"/>.</summary>
    public static (double X, double Y) CellOrigin(IReadOnlyList<string> classNames, int label, int predicted)
    {
        double labels = LabelWidth(classNames);
        int cell = CellSize(classNames.Count);
        return (Margin + AxisTitle + labels + predicted * cell, TitleHeight + labels + label * cell);
    }

    /// <summary>Draws the matrix of <paramref name="metrics"/> with <paramref name="title"/> above it.</summary>
    public static void Draw(IPlotCanvas canvas, string title, IReadOnlyList<string> classNames, ClassificationMetrics metrics)
    {
        int n = classNames.Count, cell = CellSize(n);
        if (metrics.NumClasses != n) throw new ArgumentException($"{n} class names for a {metrics.NumClasses}-class matrix.", nameof(classNames));
        double labels = LabelWidth(classNames);
        double left = Margin + AxisTitle + labels, top = TitleHeight + labels;
        canvas.FillRect(0, 0, canvas.Width, canvas.Height, "#ffffff");
        canvas.Text(Margin, 20, title, TextAnchor.Start, "#000", 14);
        canvas.Text(left + n * cell / 2.0, top + n * cell + AxisTitle, "predicted", TextAnchor.Middle, "#333", 12);
        canvas.Text(Margin + 12, top + n * cell / 2.0, "true", TextAnchor.Middle, "#333", 12, vertical: true);
        double fontSize = cell >= 48 ? 12 : cell >= 28 ? 9 : 7;
        for (int t = 0; t < n; t++)
        {
            canvas.Text(left - 4, top + t * cell + cell / 2.0 + 4, Shorten(classNames[t]), TextAnchor.End, "#000", fontSize);
            canvas.Text(left + t * cell + cell / 2.0 + 4, top - 4, Shorten(classNames[t]), TextAnchor.Start, "#000", fontSize, vertical: true);
            long support = metrics.Support(t);
            for (int p = 0; p < n; p++)
            {
                long count = metrics.Confusion(t, p);
                double share = support == 0 ? 0 : (double)count / support;
                canvas.FillRect(left + p * cell, top + t * cell, cell, cell, Shade(share));
                if (cell >= 28 || count > 0)
                    canvas.Text(left + p * cell + cell / 2.0, top + t * cell + cell / 2.0 + fontSize / 3, count.ToString(CultureInfo.InvariantCulture),
                        TextAnchor.Middle, share > 0.5 ? "#ffffff" : "#000000", fontSize);
            }
        }
        for (int k = 0; k <= n; k++)
        {
            canvas.Line(left, top + k * cell, left + n * cell, top + k * cell, "#cccccc", 0.5);
            canvas.Line(left + k * cell, top, left + k * cell, top + n * cell, "#cccccc", 0.5);
        }
    }

    /// <summary>The PNG of the plot.</summary>
    public static byte[] Png(string title, IReadOnlyList<string> classNames, ClassificationMetrics metrics)
    {
        var (w, h) = Size(classNames);
        using var canvas = new SkiaCanvas(w, h);
        Draw(canvas, title, classNames, metrics);
        return canvas.ToPng();
    }

    /// <summary>White (0) to dark blue (1), linear in each channel.</summary>
    public static string Shade(double share)
    {
        share = Math.Clamp(share, 0, 1);
        static int Mix(int from, int to, double s) => (int)Math.Round(from + (to - from) * s);
        return $"#{Mix(255, 8, share):x2}{Mix(255, 48, share):x2}{Mix(255, 107, share):x2}";
    }

    private static double LabelWidth(IReadOnlyList<string> classNames) => 8 + CharWidth * classNames.Max(c => Shorten(c).Length);

    private static string Shorten(string name) => name.Length <= 16 ? name : name[..15] + "…";
}
