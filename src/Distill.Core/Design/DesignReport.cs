using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Distill.Design;

/// <summary>The design stage's table (plain text for the log, Markdown for TensorBoard) and its summary.json entries.</summary>
public static class DesignReport
{
    /// <summary>Rows shown in the table: every measured candidate, the Pareto front and the picks (all candidates go to summary.json).</summary>
    public const int MaxRows = 40;

    /// <summary>The held-out median error above which the headline warns that the latency model is not to be trusted.</summary>
    public const double HonestApePct = 10;

    public static string Status(Candidate c, DesignProfile profile, BudgetSpec budget, DesignOutcome outcome, DesignOutcome? comparison)
    {
        if (c.Index == outcome.Pick.Index) return "PICK";
        if (comparison is not null && c.Index == comparison.Pick.Index) return "param-rule pick";
        if (!DesignSearch.WithinSizeBudget(c, budget)) return "over size budget";
        if (profile.Measured.ContainsKey(c.Index)) return profile.MeasuredMs(c) <= budget.LatencyMs ? "under budget" : "over budget";
        return profile.Predicted(c) <= budget.LatencyMs ? "predicted under" : "predicted over";
    }

    /// <summary>The table as aligned plain text (or a Markdown table when <paramref name="markdown"/>).</summary>
    public static string Table(DesignProfile profile, BudgetSpec budget, DesignOutcome outcome, DesignOutcome? comparison, bool markdown)
    {
        var front = DesignSearch.ParetoFront(profile.Candidates, profile.Expected).Select(c => c.Index).ToHashSet();
        var shown = profile.Candidates
            .Where(c => profile.Measured.ContainsKey(c.Index) || front.Contains(c.Index) || c.Index == outcome.Pick.Index
                        || (comparison is not null && c.Index == comparison.Pick.Index))
            .OrderByDescending(c => c.Capacity).ThenBy(c => c.Index).ToList();
        if (shown.Count > MaxRows)
            shown = shown.Where(c => front.Contains(c.Index) || c.Index == outcome.Pick.Index || (comparison is not null && c.Index == comparison.Pick.Index))
                .Concat(shown.Where(c => !front.Contains(c.Index))).Distinct().Take(MaxRows).OrderByDescending(c => c.Capacity).ToList();
        string[] header = ["candidate", "params", "capacity", "MMACs", "predicted ms", $"measured {profile.Statistic.ToString().ToLowerInvariant()} ms (IQR)", "pareto", "status"];
        var rows = shown.Select(c =>
        {
            string measured = profile.Measured.TryGetValue(c.Index, out var m) ? Inv($"{m.Value(profile.Statistic):0.000} ({m.P25Ms:0.000}-{m.P75Ms:0.000}){(m.Unstable ? " unstable" : "")}") : "-";
            return new[]
            {
                c.Label, c.Params.ToString("N0", CultureInfo.InvariantCulture), c.Capacity.ToString("N0", CultureInfo.InvariantCulture),
                Inv($"{c.Macs / 1e6:0.00}"), Inv($"{profile.Predicted(c):0.000}"), measured, front.Contains(c.Index) ? "*" : "",
                Status(c, profile, budget, outcome, comparison),
            };
        }).ToList();

        var s = new StringBuilder();
        if (markdown)
        {
            s.AppendLine("| " + string.Join(" | ", header) + " |");
            s.AppendLine("|" + string.Concat(header.Select(_ => "---|")));
            foreach (var r in rows) s.AppendLine("| " + string.Join(" | ", r) + " |");
        }
        else
        {
            var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
            s.AppendLine(string.Join("  ", header.Select((h, i) => h.PadLeft(widths[i]))));
            foreach (var r in rows) s.AppendLine(string.Join("  ", r.Select((v, i) => v.PadLeft(widths[i]))));
        }
        if (profile.Candidates.Count > shown.Count)
            s.AppendLine(Inv($"({profile.Candidates.Count - shown.Count} more candidates, all predicted, in summary.json)"));
        return s.ToString();
    }

    /// <summary>Headline lines: space, fit error, pick, verdict and warnings.</summary>
    public static IEnumerable<string> Headline(DesignProfile profile, BudgetSpec budget, DesignOutcome outcome, BudgetVerdict verdict)
    {
        var h = profile.Holdout;
        yield return Inv($"{profile.Candidates.Count} candidates, {profile.Measured.Count} measured ({profile.NewlyMeasured} timed now), deployment {profile.Shape}");
        yield return h.Points > 0
            ? Inv($"latency model on {h.Points} measured points, {h.Folds}-fold held-out error: median {h.MedianPct:0.0}%, mean {h.MeanPct:0.0}%, max {h.MaxPct:0.0}%")
            : "latency model: too few measured points for a held-out error";
        if (profile.Unstable.Count > 0)
        {
            var unstable = profile.Unstable.Select(i => profile.Candidates[i].Label).ToList();
            var fit = profile.FitIndices.ToHashSet();
            bool excluded = profile.Unstable.All(i => !fit.Contains(i));
            yield return Inv($"timing: {unstable.Count} of {profile.Measured.Count} measurements unstable (interquartile range above measure.max_spread_pct of the median, or noisy rounds kept){(excluded ? ", left out of the fit" : "")}: {string.Join(", ", unstable.Take(12))}{(unstable.Count > 12 ? ", ..." : "")}");
        }
        int rejected = profile.Measured.Values.Sum(m => m.RejectedRounds);
        if (rejected > 0) yield return Inv($"timing: {rejected} noisy rounds re-run (the reference candidate's time jumped by more than measure.outlier_pct)");
        if (profile.Retimed > 0) yield return Inv($"timing: {profile.Retimed} candidates near the budget timed again before the verdict");
        if (h.Points > 0 && h.MedianPct > HonestApePct)
            yield return Inv($"WARNING: the latency model's held-out median error is {h.MedianPct:0.0}% (above {HonestApePct:0}%): on this machine it cannot predict latency that closely; predictions only choose which candidates to time, and every verdict and the pick rest on measurements");
        if (outcome.ParamBudget is { } pb) yield return Inv($"parameter rule: parameter budget {pb:N0} (teacher capacity x budget / teacher latency)");
        yield return Inv($"pick ({outcome.Kind}): {outcome.Pick.Label}, {outcome.Pick.Params:N0} params; {verdict.Text}");
        if (!verdict.Within) yield return "WARNING: " + verdict.Text;
        foreach (var w in outcome.Warnings) yield return "WARNING: " + w;
    }

    /// <summary>Every candidate with its dims, sizes, predicted and measured latency and status, for summary.json.</summary>
    public static JsonArray Candidates(DesignProfile profile, BudgetSpec budget, DesignOutcome outcome, DesignOutcome? comparison)
    {
        var front = DesignSearch.ParetoFront(profile.Candidates, profile.Expected).Select(c => c.Index).ToHashSet();
        var fitted = profile.FitIndices.ToHashSet();
        var array = new JsonArray();
        foreach (var c in profile.Candidates)
        {
            var o = new JsonObject
            {
                ["label"] = c.Label,
                ["dims"] = System.Text.Json.JsonSerializer.SerializeToNode(c.Dims),
                ["params"] = c.Params,
                ["capacity"] = c.Capacity,
                ["macs"] = c.Macs,
                ["predicted_ms"] = Math.Round(profile.Predicted(c), 5),
                ["pareto"] = front.Contains(c.Index),
                ["in_fit"] = fitted.Contains(c.Index),
                ["status"] = Status(c, profile, budget, outcome, comparison),
            };
            if (profile.Measured.TryGetValue(c.Index, out var m)) o["measured"] = System.Text.Json.JsonSerializer.SerializeToNode(m);
            array.Add(o);
        }
        return array;
    }

    private static string Inv(FormattableString f) => f.ToString(CultureInfo.InvariantCulture);
}
