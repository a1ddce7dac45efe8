using System.Text.Json.Serialization;
using Distill.Design;

namespace Distill.Stages.Results;

/// <summary><c>design_check</c>: the current student timed against a design stage's budget.</summary>
public sealed record DesignCheckResult : StageResult
{
    /// <summary>The design stage whose budget and deployment were used.</summary>
    [JsonPropertyName("design"), JsonPropertyOrder(10)] public string Design { get; init; } = "";

    [JsonPropertyName("student"), JsonPropertyOrder(11)] public string Student { get; init; } = "";

    [JsonPropertyName("measured"), JsonPropertyOrder(12)] public required LatencyMeasurement Measured { get; init; }

    [JsonPropertyName("within_budget"), JsonPropertyOrder(13)] public bool WithinBudget { get; init; }

    [JsonPropertyName("budget_margin_pct"), JsonPropertyOrder(14)] public double BudgetMarginPct { get; init; }

    [JsonPropertyName("deployment"), JsonPropertyOrder(15)] public string Deployment { get; init; } = "";

    [JsonPropertyName("statistic"), JsonPropertyOrder(16)] public string Statistic { get; init; } = "";

    [JsonPropertyName("fingerprint"), JsonPropertyOrder(17)] public required DeviceFingerprint Fingerprint { get; init; }
}
