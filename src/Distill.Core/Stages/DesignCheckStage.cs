using System.Diagnostics;
using Distill.Design;
using Distill.Recipes;
using Distill.Stages.Results;

namespace Distill.Stages;

/// <summary>Times the run's current student against a design stage's budget (see <see cref="DesignCheckStageSpec"/>).</summary>
public sealed class DesignCheckStage(DesignCheckStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.None;

    public StageOutput Run(StageInputs inputs)
    {
        var run = inputs.Run;
        var clock = Stopwatch.StartNew();
        var design = spec.DesignStage(run.Recipe) ?? throw new InvalidOperationException($"Stage '{spec.DisplayName}' has no design stage before it.");
        var student = inputs.Student ?? throw new InvalidOperationException($"Stage '{spec.DisplayName}' has no student to check: put it after a training or compression stage.");
        var family = DesignFamilies.Get(student.Family);
        var (source, shape) = DesignStage.Open(run.Recipe, design, family);
        var m = source.MeasureModel(student, student.Config);
        var verdict = BudgetVerdict.Of(m, design.Budget.LatencyMs, design.Measure.Statistic);
        run.Log.WriteLine($"[{spec.DisplayName}] {family.Label(student.Config)} at {shape}: {(verdict.Within ? "" : "WARNING: ")}{verdict.Text}");
        var result = new DesignCheckResult
        {
            Name = spec.DisplayName,
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
            Design = design.DisplayName,
            Student = family.Label(student.Config),
            Measured = m,
            WithinBudget = verdict.Within,
            BudgetMarginPct = verdict.MarginPct,
            Deployment = shape.ToString(),
            Statistic = design.Measure.Statistic.ToString().ToLowerInvariant(),
            Fingerprint = source.Cache.Fingerprint,
            Warning = verdict.Within ? null : verdict.Text,
        };
        return new StageOutput(result, null);
    }
}
