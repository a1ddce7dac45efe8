using System.Text.Json.Serialization;
using Distill.Training;

namespace Distill.Stages.Results;

/// <summary>
/// One stage's entry in summary.json (see README "summary.json"): the standard keys, and per stage kind a derived record
/// with that kind's keys. In JSON the record's type is the <c>kind</c> key (System.Text.Json polymorphism), so a resumed
/// run reads each entry back as the record it was written from. Adding a stage kind adds its record here.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(TeacherCheckpointResult), TeacherCheckpointResult.KindKey)]
[JsonDerivedType(typeof(TeacherPretrainedResult), TeacherPretrainedResult.KindKey)]
[JsonDerivedType(typeof(TrainTeacherResult), "train_teacher")]
[JsonDerivedType(typeof(BaselineResult), "baseline")]
[JsonDerivedType(typeof(DistillResult), "distill")]
[JsonDerivedType(typeof(PruneResult), "prune")]
[JsonDerivedType(typeof(QuantizeResult), "quantize")]
[JsonDerivedType(typeof(WeightlessResult), "weightless")]
[JsonDerivedType(typeof(ExportResult), "export")]
[JsonDerivedType(typeof(DesignResult), "design")]
[JsonDerivedType(typeof(DesignCheckResult), "design_check")]
public abstract record StageResult
{
    private static readonly Dictionary<Type, string> Kinds = typeof(StageResult)
        .GetCustomAttributes(typeof(JsonDerivedTypeAttribute), false).Cast<JsonDerivedTypeAttribute>()
        .ToDictionary(a => a.DerivedType, a => (string)a.TypeDiscriminator!);

    [JsonPropertyName("name"), JsonPropertyOrder(-9)] public string Name { get; init; } = "";

    /// <summary>The stage kind (the JSON <c>kind</c>), given by the record's type.</summary>
    [JsonIgnore] public string Kind => KindOf(GetType());

    /// <summary>Evaluation metrics of the model the stage produced: <c>accuracy</c>, <c>macro_f1</c>, <c>loss</c> (null in JSON when not finite).</summary>
    [JsonPropertyName("metrics"), JsonPropertyOrder(-8)]
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>The metrics of every evaluation split in the recipe's order (the first equals <see cref="Metrics"/>); null when the stage did not evaluate the run's splits.</summary>
    [JsonPropertyName("metrics_by_split"), JsonPropertyOrder(-7), JsonConverter(typeof(MetricsBySplitConverter)), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<SplitMetrics>? MetricsBySplit { get; init; }

    [JsonPropertyName("params"), JsonPropertyOrder(-6)] public long Params { get; init; }

    /// <summary>Bytes of the model's dense weights at their dtype.</summary>
    [JsonPropertyName("model_bytes"), JsonPropertyOrder(-5)] public long ModelBytes { get; init; }

    [JsonPropertyName("wall_seconds"), JsonPropertyOrder(-4), JsonConverter(typeof(RoundedSecondsConverter))] public double WallSeconds { get; init; }

    /// <summary>Optimizer steps the stage ran (0 for stages that do not train).</summary>
    [JsonPropertyName("steps"), JsonPropertyOrder(-3)] public long Steps { get; init; }

    /// <summary>Something the user should read (a missed latency budget, an allocation over its target); the CLI prints it.</summary>
    [JsonPropertyName("warning"), JsonPropertyOrder(100), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Warning { get; init; }

    /// <summary>The <c>kind</c> of a result record type.</summary>
    public static string KindOf(Type resultType) => Kinds.TryGetValue(resultType, out var k)
        ? k
        : throw new InvalidOperationException($"{resultType.Name} is not listed as a [JsonDerivedType] of {nameof(StageResult)}.");

    /// <summary>The result record types by kind (what summary.json's <c>kind</c> values can be).</summary>
    public static IReadOnlyDictionary<string, Type> Types => Kinds.ToDictionary(kv => kv.Value, kv => kv.Key);
}
