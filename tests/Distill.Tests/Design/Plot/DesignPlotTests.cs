using System.Globalization;
using System.Xml.Linq;
using Distill.Design;
using Distill.Models.Design;
using Distill.Models.Cnn;
using Xunit;

namespace Distill.Tests.Design.Plot;

/// <summary>
/// The design plot's PNG against its SVG: both come from one drawing routine, so the SVG's coordinates say where the
/// PNG must show the budget line, the pick's ring and the measured points (synthetic latencies, no timing).
/// </summary>
public class DesignPlotTests
{
    private static (DesignProfile Profile, DesignOutcome Outcome) Design(double budgetQuantile)
    {
        var candidates = DesignTestSpaces.Cnn();
        var source = new SyntheticLatency(DesignTestSpaces.CnnCosts);
        var sorted = candidates.Select(source.Truth).Order().ToList();
        double budget = sorted[(int)(budgetQuantile * (sorted.Count - 1))];
        var profile = DesignSearch.Profile(new CnnDesign(), DesignTestSpaces.Shape, candidates,
            new MeasureSpec { MaxMeasured = 24, Folds = 5, Verify = 5, Seed = 1 }, source);
        return (profile, DesignSearch.PickByCapacity(profile, new BudgetSpec { LatencyMs = budget }, source, verify: 5, topK: 1));
    }

    private static double Budget(DesignProfile profile, DesignOutcome outcome) => profile.Expected(outcome.Pick) * 1.05;

    private static double Num(XElement e, string attribute) => double.Parse((string)e.Attribute(attribute)!, CultureInfo.InvariantCulture);

    [Fact]
    public void PngShowsThePlotWhereTheSvgDrawsIt()
    {
        var (profile, outcome) = Design(0.5);
        double budget = Budget(profile, outcome);
        var image = DecodedPng.Decode(DesignPlot.Png(profile, outcome, budget, "test plot"));
        var svg = XDocument.Parse(DesignPlot.Svg(profile, outcome, budget, "test plot"));
        XElement Group(string id) => svg.Descendants().Single(e => (string?)e.Attribute("id") == id);

        Assert.Equal((DesignPlot.Width, DesignPlot.Height), (image.Width, image.Height));
        int inked = image.All().Count(p => p != (255, 255, 255));
        Assert.InRange(inked, 2_000, DesignPlot.Width * DesignPlot.Height / 2); // axes, text and points; mostly white

        // The budget line: red on the rows about its y, along its length.
        var line = Group("budget").Elements().Single(e => e.Name.LocalName == "line");
        int by = (int)Num(line, "y1");
        int red = Enumerable.Range((int)Num(line, "x1") + 2, (int)(Num(line, "x2") - Num(line, "x1")) - 4)
            .Count(x => Enumerable.Range(by - 1, 3).Any(y => image.Pixel(x, y) is var p && p.R - Math.Max(p.G, p.B) > 100));
        Assert.True(red > (Num(line, "x2") - Num(line, "x1")) * 0.5, $"{red} red columns on the budget line (it is dashed 6 on, 4 off)");

        // The pick's ring (radius 8, 2 px): its colour 8 px left and right of the pick's centre.
        var ring = Group("pick").Elements().Single(e => e.Name.LocalName == "circle");
        double cx = Num(ring, "cx"), cy = Num(ring, "cy");
        foreach (double x in new[] { cx - 8, cx + 8 })
            Assert.True(DecodedPng.Near(image.Pixel((int)x, (int)cy), "#d62728", 60), $"pick ring at ({x}, {cy}): {image.Pixel((int)x, (int)cy)}");

        // Every measured point (filled, radius 3.5): its colour at or beside its centre (the Pareto line may cross it).
        var measured = Group("candidates").Elements().Where(e => (string?)e.Attribute("fill") == "#1f77b4").ToList();
        Assert.NotEmpty(measured);
        foreach (var dot in measured)
        {
            int x = (int)Num(dot, "cx"), y = (int)Num(dot, "cy");
            Assert.True(new[] { (0, 0), (-2, 0), (2, 0), (0, -2), (0, 2) }.Any(d => DecodedPng.Near(image.Pixel(x + d.Item1, y + d.Item2), "#1f77b4", 40)),
                $"measured point at ({x}, {y})");
        }
    }

    [Fact]
    public void DifferentInputsDrawDifferentImages()
    {
        var (profile, outcome) = Design(0.5);
        byte[] a = DesignPlot.Png(profile, outcome, Budget(profile, outcome), "plot");
        Assert.Equal(a, DesignPlot.Png(profile, outcome, Budget(profile, outcome), "plot")); // deterministic
        Assert.NotEqual(a, DesignPlot.Png(profile, outcome, Budget(profile, outcome) * 3, "plot"));
        var (small, smallOutcome) = Design(0.2);
        Assert.NotEqual(a, DesignPlot.Png(small, smallOutcome, Budget(small, smallOutcome), "plot"));
    }
}
