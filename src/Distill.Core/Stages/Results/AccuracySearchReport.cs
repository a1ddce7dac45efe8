using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>accuracy_search</c> of a quantize entry (<c>max_accuracy_drop</c>): the search over the byte budget and every evaluation it made.</summary>
public sealed record AccuracySearchReport
{
    /// <summary>How the budget was searched and what one evaluation is.</summary>
    [JsonPropertyName("method")] public string Method { get; init; } = "";

    /// <summary>Accuracy of the student the stage received (the reference).</summary>
    [JsonPropertyName("reference_accuracy")] public double ReferenceAccuracy { get; init; }

    /// <summary>Points of accuracy the compressed student may lose.</summary>
    [JsonPropertyName("max_accuracy_drop")] public double MaxAccuracyDrop { get; init; }

    [JsonPropertyName("max_evaluations")] public int MaxEvaluations { get; init; }

    /// <summary>The budget range searched: the smallest and the largest artifact the measured options allow.</summary>
    [JsonPropertyName("smallest_bytes")] public long SmallestBytes { get; init; }

    [JsonPropertyName("largest_bytes")] public long LargestBytes { get; init; }

    /// <summary>False when even the largest budget lost more than the drop (the stage then keeps that evaluation).</summary>
    [JsonPropertyName("met")] public bool Met { get; init; }

    /// <summary>The budget of the kept evaluation.</summary>
    [JsonPropertyName("chosen_budget")] public long ChosenBudget { get; init; }

    /// <summary>In the order made: budget, artifact bytes, accuracy of the reloaded model, whether within the drop.</summary>
    [JsonPropertyName("evaluations")] public List<AccuracySearchEvaluation> Evaluations { get; init; } = [];
}
