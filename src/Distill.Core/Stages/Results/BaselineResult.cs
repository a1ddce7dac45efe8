using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>baseline</c>: a fresh student trained on labels alone (and what building it recorded).</summary>
public sealed record BaselineResult : ModelStageResult
{
    [JsonPropertyName("student_new_head"), JsonPropertyOrder(90), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NewHeadReport? StudentNewHead { get; init; }

    [JsonPropertyName("student_new_parts"), JsonPropertyOrder(91), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NewPartsReport? StudentNewParts { get; init; }

    [JsonPropertyName("student_init_from_teacher"), JsonPropertyOrder(92), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public InitFromTeacherReport? StudentInitFromTeacher { get; init; }

    public BaselineResult WithBuild(ModelBuildReport r) => this with { StudentNewHead = r.NewHead, StudentNewParts = r.NewParts, StudentInitFromTeacher = r.InitFromTeacher };
}
