namespace Distill.Design;

/// <summary>
/// A measured latency checked against the budget: within when the median is at most the budget. <see cref="Marginal"/>
/// flags a result whose interquartile range straddles the budget (the verdict could flip on a quieter or busier run).
/// A miss is a warning to show, never a silent pass.
/// </summary>
public sealed record BudgetVerdict(double MeasuredMs, double BudgetMs, double P25Ms, double P75Ms)
{
    public static BudgetVerdict Of(LatencyMeasurement m, double budgetMs, LatencyStatistic statistic = LatencyStatistic.Median) =>
        new(m.Value(statistic), budgetMs, m.P25Ms, m.P75Ms);

    public bool Within => MeasuredMs <= BudgetMs;

    /// <summary>(measured − budget) / budget in percent: negative = headroom.</summary>
    public double MarginPct => (MeasuredMs - BudgetMs) / BudgetMs * 100;

    public bool Marginal => P25Ms <= BudgetMs && BudgetMs <= P75Ms;

    public string Text => Within
        ? FormattableString.Invariant($"within budget: {MeasuredMs:0.###} ms <= {BudgetMs:0.###} ms ({-MarginPct:0.0}% headroom){(Marginal ? "; the timing spread straddles the budget" : "")}")
        : FormattableString.Invariant($"OVER BUDGET: {MeasuredMs:0.###} ms measured vs a {BudgetMs:0.###} ms budget (+{MarginPct:0.0}%){(Marginal ? "; within the timing spread" : "")}");
}
