using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Distill.Design;

namespace Distill.Stages.Results;

/// <summary><c>design</c>: every candidate, the latency fit, the device fingerprint, the pick and the budget verdict.</summary>
public sealed record DesignResult : ModelStageResult
{
    [JsonPropertyName("family"), JsonPropertyOrder(10)] public string Family { get; init; } = "";

    [JsonPropertyName("pick_rule"), JsonPropertyOrder(11)] public string PickRule { get; init; } = "";

    [JsonPropertyName("pick"), JsonPropertyOrder(12)] public required DesignPick Pick { get; init; }

    [JsonPropertyName("budget"), JsonPropertyOrder(13)] public required BudgetSpec Budget { get; init; }

    [JsonPropertyName("within_budget"), JsonPropertyOrder(14)] public bool WithinBudget { get; init; }

    [JsonPropertyName("budget_margin_pct"), JsonPropertyOrder(15)] public double BudgetMarginPct { get; init; }

    [JsonPropertyName("deployment"), JsonPropertyOrder(16)] public string Deployment { get; init; } = "";

    [JsonPropertyName("statistic"), JsonPropertyOrder(17)] public string Statistic { get; init; } = "";

    [JsonPropertyName("fingerprint"), JsonPropertyOrder(18)] public required DeviceFingerprint Fingerprint { get; init; }

    [JsonPropertyName("profile_file"), JsonPropertyOrder(19)] public string ProfileFile { get; init; } = "";

    /// <summary>Candidates timed by this run (the others came from the profile cache).</summary>
    [JsonPropertyName("timed_now"), JsonPropertyOrder(20)] public int TimedNow { get; init; }

    [JsonPropertyName("latency_model"), JsonPropertyOrder(21)] public required LatencyModelFit LatencyModel { get; init; }

    /// <summary>The design report's rows (<see cref="DesignReport.Candidates"/>), one object per candidate.</summary>
    [JsonPropertyName("candidates"), JsonPropertyOrder(22)] public required JsonArray Candidates { get; init; }

    [JsonPropertyName("plot"), JsonPropertyOrder(23)] public string Plot { get; init; } = "";

    [JsonPropertyName("plot_png"), JsonPropertyOrder(24)] public string PlotPng { get; init; } = "";

    /// <summary><c>pick: param_rule</c>: the parameter budget the rule derived.</summary>
    [JsonPropertyName("param_rule_budget"), JsonPropertyOrder(25), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? ParamRuleBudget { get; init; }

    /// <summary><c>pick: proxy</c>: each proxy-trained candidate's held-out accuracy (by label).</summary>
    [JsonPropertyName("proxy_accuracy"), JsonPropertyOrder(26), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, double>? ProxyAccuracy { get; init; }
}
