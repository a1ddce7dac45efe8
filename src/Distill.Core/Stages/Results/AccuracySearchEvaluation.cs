using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary>One evaluation of the target-accuracy search: allocation at a budget, fine-tuning, artifact, reload.</summary>
public sealed record AccuracySearchEvaluation
{
    [JsonPropertyName("budget_bytes")] public long BudgetBytes { get; init; }

    [JsonPropertyName("artifact_bytes")] public long ArtifactBytes { get; init; }

    /// <summary>Accuracy of the model reloaded from the evaluation's artifact.</summary>
    [JsonPropertyName("accuracy")] public double Accuracy { get; init; }

    [JsonPropertyName("within")] public bool Within { get; init; }
}
