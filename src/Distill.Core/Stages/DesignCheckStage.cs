using System.Diagnostics;
using Distill.Design;

namespace Distill.Stages;

/// <summary>Times the run's current student against a design stage's budget (see <see cref="DesignCheckStageSpec"/>).</summary>
public sealed class DesignCheckStage(DesignCheckStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.None;

    public StageResult Run(RunContext run)
    {
        var clock = Stopwatch.StartNew();
        var design = spec.DesignStage(run.Recipe) ?? throw new InvalidOperationException($"Stage '{spec.DisplayName}' has no design stage before it.");
        var student = run.Student ?? throw new InvalidOperationException($"Stage '{spec.DisplayName}' has no student to check: put it after a training or compression stage.");
        var family = DesignFamilies.Get(student.Family);
        var (source, shape) = DesignStage.Open(run.Recipe, design, family);
        var m = source.MeasureModel(student, student.Config);
        var verdict = BudgetVerdict.Of(m, design.Budget.LatencyMs, design.Measure.Statistic);
        run.Log.WriteLine($"[{spec.DisplayName}] {family.Label(student.Config)} at {shape}: {(verdict.Within ? "" : "WARNING: ")}{verdict.Text}");
        var extra = new Dictionary<string, object>
        {
            ["design"] = design.DisplayName,
            ["student"] = family.Label(student.Config),
            ["measured"] = System.Text.Json.JsonSerializer.SerializeToNode(m)!,
            ["within_budget"] = verdict.Within,
            ["budget_margin_pct"] = verdict.MarginPct,
            ["deployment"] = shape.ToString(),
            ["statistic"] = design.Measure.Statistic.ToString().ToLowerInvariant(),
            ["fingerprint"] = System.Text.Json.JsonSerializer.SerializeToNode(source.Cache.Fingerprint)!,
        };
        if (!verdict.Within) extra["warning"] = verdict.Text;
        return new StageResult
        {
            Name = spec.DisplayName,
            Kind = spec.Kind,
            Metrics = new Dictionary<string, double>
            {
                ["latency_ms"] = m.Value(design.Measure.Statistic),
                ["latency_median_ms"] = m.MedianMs,
                ["budget_ms"] = design.Budget.LatencyMs,
                ["latency_p25_ms"] = m.P25Ms,
                ["latency_p75_ms"] = m.P75Ms,
            },
            Params = student.ParameterCount(),
            ModelBytes = student.ParameterBytes(),
            WallSeconds = clock.Elapsed.TotalSeconds,
            Extra = extra,
        };
    }
}
