using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>train_teacher</c>: the teacher trained here (and what building it recorded).</summary>
public sealed record TrainTeacherResult : ModelStageResult
{
    [JsonPropertyName("teacher_new_head"), JsonPropertyOrder(90), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NewHeadReport? TeacherNewHead { get; init; }

    [JsonPropertyName("teacher_new_parts"), JsonPropertyOrder(91), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NewPartsReport? TeacherNewParts { get; init; }

    [JsonPropertyName("teacher_init_from_teacher"), JsonPropertyOrder(92), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public InitFromTeacherReport? TeacherInitFromTeacher { get; init; }

    public TrainTeacherResult WithBuild(ModelBuildReport r) => this with { TeacherNewHead = r.NewHead, TeacherNewParts = r.NewParts, TeacherInitFromTeacher = r.InitFromTeacher };
}
