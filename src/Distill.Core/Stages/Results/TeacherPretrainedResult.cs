using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>teacher_pretrained</c>: the teacher loaded from its HF folder and evaluated, when no stage trains it.</summary>
public sealed record TeacherPretrainedResult : StageResult
{
    public const string KindKey = "teacher_pretrained";

    [JsonPropertyName("pretrained"), JsonPropertyOrder(10)] public string Pretrained { get; init; } = "";

    [JsonPropertyName("teacher_new_head"), JsonPropertyOrder(90), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NewHeadReport? TeacherNewHead { get; init; }

    [JsonPropertyName("teacher_new_parts"), JsonPropertyOrder(91), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NewPartsReport? TeacherNewParts { get; init; }

    [JsonPropertyName("teacher_init_from_teacher"), JsonPropertyOrder(92), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public InitFromTeacherReport? TeacherInitFromTeacher { get; init; }

    public TeacherPretrainedResult WithBuild(ModelBuildReport r) => this with { TeacherNewHead = r.NewHead, TeacherNewParts = r.NewParts, TeacherInitFromTeacher = r.InitFromTeacher };
}
