using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>teacher_checkpoint</c>: the teacher loaded from <c>teacher.checkpoint</c> and evaluated (no stage of the recipe).</summary>
public sealed record TeacherCheckpointResult : StageResult
{
    public const string KindKey = "teacher_checkpoint";

    [JsonPropertyName("checkpoint"), JsonPropertyOrder(10)] public string Checkpoint { get; init; } = "";

    [JsonPropertyName("teacher_new_head"), JsonPropertyOrder(90), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NewHeadReport? TeacherNewHead { get; init; }

    [JsonPropertyName("teacher_new_parts"), JsonPropertyOrder(91), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NewPartsReport? TeacherNewParts { get; init; }

    [JsonPropertyName("teacher_init_from_teacher"), JsonPropertyOrder(92), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public InitFromTeacherReport? TeacherInitFromTeacher { get; init; }

    public TeacherCheckpointResult WithBuild(ModelBuildReport r) => this with { TeacherNewHead = r.NewHead, TeacherNewParts = r.NewParts, TeacherInitFromTeacher = r.InitFromTeacher };
}
