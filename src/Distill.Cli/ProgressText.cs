using System.Globalization;
using Distill.Training;

namespace Distill.Cli;

/// <summary>Formatting shared by the terminal and plain-line progress displays.</summary>
public static class ProgressText
{
    public static string Loss(StepInfo step) =>
        $"loss {step.Total:0.0000}" + (step.Terms.Count > 1
            ? " (" + string.Join(", ", step.Terms.Select(t => $"{t.Name} {t.Value:0.0000}")) + ")"
            : "");

    public static string Metrics(IReadOnlyDictionary<string, double> m) =>
        string.Join(", ", m.Select(kv => $"{kv.Key} {kv.Value.ToString("0.0000", CultureInfo.InvariantCulture)}"));

    public static string Eta(TimeSpan elapsed, long stepsDone, long stepsLeft)
    {
        if (stepsDone <= 0) return "--:--";
        var eta = TimeSpan.FromSeconds(elapsed.TotalSeconds / stepsDone * stepsLeft);
        return eta.TotalHours >= 1 ? eta.ToString(@"h\:mm\:ss") : eta.ToString(@"mm\:ss");
    }
}
