using System.Globalization;
using System.Text;

namespace Distill.Bench;

/// <summary>
/// Turns the runs of a bench into rows: per run, the median step time (first 10 steps excluded as warm-up), the median
/// epoch time, peak RSS, final loss (mean of the last 20 steps), accuracy and job time; across repetitions, the median
/// and the min–max spread. Ratios are Distill / PyTorch (lower is better for time and memory).
/// </summary>
public static class BenchReport
{
    public sealed record Stat(double Median, double Min, double Max, int N)
    {
        public static Stat Of(IEnumerable<double> values)
        {
            var v = values.Where(double.IsFinite).Order().ToArray();
            return v.Length == 0 ? new Stat(double.NaN, double.NaN, double.NaN, 0) : new Stat(BenchReport.Median(v), v[0], v[^1], v.Length);
        }
    }

    public sealed record Row(string Workload, string Measure, Stat? Distill, Stat? Reference, string ReferenceLabel, double? Ratio, string Target, string Unit, int Digits);

    public static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    public static double StepMs(BenchResult r) => Median(r.StepSeconds.Skip(Math.Min(10, r.StepSeconds.Length / 2)).Order().ToArray()) * 1000;

    /// <summary>10th percentile of the step times: on a shared machine the low percentiles show the work, the median the contention too.</summary>
    public static double StepP10Ms(BenchResult r)
    {
        var v = r.StepSeconds.Skip(Math.Min(10, r.StepSeconds.Length / 2)).Order().ToArray();
        return v.Length == 0 ? double.NaN : v[(int)(0.1 * (v.Length - 1))] * 1000;
    }

    public static double EpochSeconds(BenchResult r) => Median(r.EpochSeconds.Order().ToArray());

    public static double FinalLoss(BenchResult r) => r.Losses.Length == 0 ? double.NaN : r.Losses.TakeLast(20).Average();

    /// <summary>RSS growth after warm-up: max of the samples after the first 10% of steps over the first of them, minus 1.</summary>
    public static double RssGrowth(BenchResult r)
    {
        if (r.RssMb.Length < 2) return double.NaN;
        double lastStep = r.RssMb[^1][0];
        var after = r.RssMb.Where(s => s[0] >= 0.1 * lastStep).ToArray();
        if (after.Length < 2) return double.NaN;
        return after.Max(s => s[1]) / after[0][1] - 1;
    }

    public static List<Row> Rows(string workload, IReadOnlyList<BenchResult> runs, int epochs, int rssSteps)
    {
        IEnumerable<BenchResult> Of(string side, string variant) => runs.Where(r => r.Side == side && r.Variant == variant && r.Tag == "main");
        var dKd = Of("distill", "kd").ToList();
        var pKd = Of("pytorch", "kd").ToList();
        var dCache = Of("distill", "cache").ToList();
        var dBf16 = Of("distill", "bf16").ToList();
        var rows = new List<Row>();
        void Add(string measure, List<BenchResult> a, List<BenchResult> b, string label, Func<BenchResult, double> f, string target, string unit, int digits)
        {
            if (a.Count == 0) return;
            var sa = Stat.Of(a.Select(f));
            var sb = b.Count == 0 ? null : Stat.Of(b.Select(f));
            rows.Add(new Row(workload, measure, sa, sb, label, sb is null ? null : sa.Median / sb.Median, target, unit, digits));
        }

        Add("KD step time", dKd, pKd, "PyTorch", StepMs, "≤ 1.0", "ms", 2);
        Add("KD step time, 10th percentile", dKd, pKd, "PyTorch", StepP10Ms, "≤ 1.0", "ms", 2);
        Add("epoch time", dKd, pKd, "PyTorch", EpochSeconds, "", "s", 2);
        Add("peak RSS", dKd, pKd, "PyTorch", r => r.PeakRssMb, "≤ 1.2", "MB", 0);
        Add("final loss (mean of last 20 steps)", dKd, pKd, "PyTorch", FinalLoss, "≈ 1 (same work)", "", 4);
        Add("test accuracy", dKd, pKd, "PyTorch", r => r.Accuracy, "", "", 4);
        Add($"full job, {epochs} epochs (fp32, teacher every step)", dKd, pKd, "PyTorch", r => r.JobSeconds, "", "s", 1);
        Add($"full job, {epochs} epochs, fp16 teacher cache (build included)", dCache, pKd, "PyTorch", r => r.JobSeconds, "≤ 0.6", "s", 1);
        Add("  of which cache hashing + build", dCache, [], "", r => r.CacheSeconds, "", "s", 1);
        Add("cache: epoch time from epoch 2 on", dCache, dKd, "Distill fp32", r => Median(r.EpochSeconds.Skip(1).Order().ToArray()), "< 1", "s", 2);
        Add("cache: test accuracy", dCache, dKd, "Distill fp32", r => r.Accuracy, "≈ 1", "", 4);
        Add("cache: step time, 10th percentile", dCache, dKd, "Distill fp32", StepP10Ms, "< 1", "ms", 2);
        Add("bf16: step time", dBf16, dKd, "Distill fp32", StepMs, "", "ms", 2);
        Add("bf16: step time, 10th percentile", dBf16, dKd, "Distill fp32", StepP10Ms, "", "ms", 2);
        Add("bf16: test accuracy", dBf16, dKd, "Distill fp32", r => r.Accuracy, "", "", 4);
        Add("bf16: final loss", dBf16, dKd, "Distill fp32", FinalLoss, "", "", 4);
        Add("bf16: peak RSS", dBf16, dKd, "Distill fp32", r => r.PeakRssMb, "", "MB", 0);

        var dRss = runs.Where(r => r.Side == "distill" && r.Tag == "rss").ToList();
        var pRss = runs.Where(r => r.Side == "pytorch" && r.Tag == "rss").ToList();
        if (dRss.Count > 0)
        {
            var sa = Stat.Of(dRss.Select(r => RssGrowth(r) * 100));
            var sb = pRss.Count == 0 ? null : Stat.Of(pRss.Select(r => RssGrowth(r) * 100));
            rows.Add(new Row(workload, $"RSS growth over {rssSteps:N0} steps after warm-up", sa, sb, "PyTorch", null, "≤ 5 %", "%", 1));
        }
        return rows;
    }

    public static string Markdown(IReadOnlyList<Row> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| workload | measure | Distill | reference | value | Distill / reference | target |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in rows)
            sb.AppendLine($"| {r.Workload} | {r.Measure} | {Format(r.Distill, r)} | {(r.Reference is null ? "" : r.ReferenceLabel)} | {Format(r.Reference, r)} | " +
                          $"{(r.Ratio is { } x && double.IsFinite(x) ? x.ToString("0.00", CultureInfo.InvariantCulture) : "")} | {r.Target} |");
        return sb.ToString();
    }

    private static string Format(Stat? s, Row r)
    {
        if (s is null || s.N == 0) return "";
        string f(double v) => v.ToString("F" + r.Digits, CultureInfo.InvariantCulture);
        string unit = r.Unit.Length == 0 ? "" : r.Unit == "%" ? " %" : " " + r.Unit;
        return s.N == 1 || s.Min == s.Max ? $"{f(s.Median)}{unit}" : $"{f(s.Median)}{unit} ({f(s.Min)}–{f(s.Max)})";
    }
}
