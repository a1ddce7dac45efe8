using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Checkpoints;

/// <summary>The <c>state.json</c> of a Distill checkpoint folder.</summary>
public sealed record CheckpointState
{
    public const string CurrentFormat = "distill-checkpoint/1";

    [JsonPropertyName("format")] public string Format { get; init; } = CurrentFormat;

    [JsonPropertyName("stage")] public string Stage { get; init; } = "";

    [JsonPropertyName("kind")] public string Kind { get; init; } = "";

    /// <summary>Optimizer steps completed when the checkpoint was written.</summary>
    [JsonPropertyName("step")] public long Step { get; init; }

    [JsonPropertyName("total_steps")] public long TotalSteps { get; init; }

    [JsonPropertyName("best_accuracy")] public double? BestAccuracy { get; init; }

    /// <summary>Transcription (CTC) stages: the best word error rate; absent for classification and in older checkpoints.</summary>
    [JsonPropertyName("best_wer"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? BestWer { get; init; }

    /// <summary>Model family key; with <see cref="Config"/> it rebuilds the model without the recipe.</summary>
    [JsonPropertyName("family")] public string Family { get; init; } = "";

    [JsonPropertyName("config")] public JsonElement Config { get; init; }

    [JsonPropertyName("recipe_sha256")] public string RecipeSha256 { get; init; } = "";

    /// <summary>The latest steps' total losses (the <c>train.loss_spike</c> window); absent in older checkpoints.</summary>
    [JsonPropertyName("recent_losses"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<double>? RecentLosses { get; init; }

    /// <summary>True when the folder also holds optimizer, projector and generator state (a resumable checkpoint).</summary>
    [JsonPropertyName("resumable")] public bool Resumable { get; init; }
}
