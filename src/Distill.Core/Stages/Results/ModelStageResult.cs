using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary>The entry of a stage that leaves a model under <c>models/&lt;stage&gt;/</c>.</summary>
public abstract record ModelStageResult : StageResult
{
    /// <summary>Best accuracy on the first evaluation split during training (null in JSON when never evaluated); absent for stages that did not train.</summary>
    [JsonPropertyName("best_accuracy"), JsonPropertyOrder(1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonConverter(typeof(NaNAsNullConverter))]
    public double? BestAccuracy { get; init; }

    /// <summary>Transcription (CTC) stages: the best (lowest) word error rate on the first evaluation split during training, which chose the best checkpoint; absent otherwise.</summary>
    [JsonPropertyName("best_wer"), JsonPropertyOrder(1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonConverter(typeof(NaNAsNullConverter))]
    public double? BestWer { get; init; }

    /// <summary>The precision the stage trained in (<c>fp32</c> or <c>bf16</c>; <c>train.precision: auto</c> resolved); absent for stages that did not train.</summary>
    [JsonPropertyName("precision"), JsonPropertyOrder(3), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Precision { get; init; }

    /// <summary>The stage's model folder, relative to the run folder.</summary>
    [JsonPropertyName("model_dir"), JsonPropertyOrder(2)] public string ModelDir { get; init; } = "";
}
