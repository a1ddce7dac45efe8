using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>distill</c>: a fresh student trained against the teacher; the teacher-output cache when one was used.</summary>
public sealed record DistillResult : ModelStageResult
{
    /// <summary><c>built</c> or <c>reused</c>; null without a cache.</summary>
    [JsonPropertyName("teacher_cache"), JsonPropertyOrder(10), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TeacherCache { get; init; }

    /// <summary>Hashing and (when built) building the cache; part of <see cref="StageResult.WallSeconds"/>.</summary>
    [JsonPropertyName("teacher_cache_seconds"), JsonPropertyOrder(11), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TeacherCacheSeconds { get; init; }

    [JsonPropertyName("teacher_cache_mb"), JsonPropertyOrder(12), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TeacherCacheMb { get; init; }

    /// <summary>Examples per second of the teacher pass that built the cache (merged shards: over their summed seconds); null when reused or without a cache.</summary>
    [JsonPropertyName("teacher_cache_examples_per_second"), JsonPropertyOrder(12), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TeacherCacheExamplesPerSecond { get; init; }

    /// <summary>The transfer set the stage trained on besides the labelled examples; null without <c>distill.transfer</c>.</summary>
    [JsonPropertyName("transfer"), JsonPropertyOrder(13), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TransferReport? Transfer { get; init; }

    [JsonPropertyName("student_new_head"), JsonPropertyOrder(90), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NewHeadReport? StudentNewHead { get; init; }

    [JsonPropertyName("student_new_parts"), JsonPropertyOrder(91), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NewPartsReport? StudentNewParts { get; init; }

    [JsonPropertyName("student_init_from_teacher"), JsonPropertyOrder(92), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public InitFromTeacherReport? StudentInitFromTeacher { get; init; }

    public DistillResult WithBuild(ModelBuildReport r) => this with { StudentNewHead = r.NewHead, StudentNewParts = r.NewParts, StudentInitFromTeacher = r.InitFromTeacher };
}
