using Distill.Training;

namespace Distill.Stages;

/// <summary>One stage's entry in summary.json (see README "summary.json"). Later stage kinds add keys through <see cref="Extra"/>.</summary>
public sealed record StageResult
{
    public required string Name { get; init; }
    public required string Kind { get; init; }

    /// <summary>Evaluation metrics of the model the stage produced: <c>accuracy</c>, <c>macro_f1</c>, <c>loss</c>.</summary>
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }

    /// <summary>The metrics of every evaluation split in the recipe's order (the first equals <see cref="Metrics"/>); null when the stage did not evaluate the run's splits.</summary>
    public IReadOnlyList<SplitMetrics>? MetricsBySplit { get; init; }

    public required long Params { get; init; }

    /// <summary>Bytes of the model's dense weights at their dtype.</summary>
    public required long ModelBytes { get; init; }

    public required double WallSeconds { get; init; }

    /// <summary>Optimizer steps the stage ran (0 for stages that do not train).</summary>
    public long Steps { get; init; }

    /// <summary>Stage-specific keys, written beside the standard ones.</summary>
    public IReadOnlyDictionary<string, object> Extra { get; init; } = new Dictionary<string, object>();
}
