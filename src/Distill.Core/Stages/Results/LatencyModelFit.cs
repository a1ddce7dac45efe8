using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>latency_model</c> of a design entry: the fitted per-feature costs and their cross-validated error.</summary>
public sealed record LatencyModelFit
{
    [JsonPropertyName("features")] public List<string> Features { get; init; } = [];

    [JsonPropertyName("costs_ms")] public List<double> CostsMs { get; init; } = [];

    [JsonPropertyName("points")] public int Points { get; init; }

    [JsonPropertyName("folds")] public int Folds { get; init; }

    [JsonPropertyName("holdout_median_ape_pct")] public double HoldoutMedianApePct { get; init; }

    [JsonPropertyName("holdout_mean_ape_pct")] public double HoldoutMeanApePct { get; init; }

    [JsonPropertyName("holdout_max_ape_pct")] public double HoldoutMaxApePct { get; init; }
}
