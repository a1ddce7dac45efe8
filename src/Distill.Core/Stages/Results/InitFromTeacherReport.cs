using System.Text.Json.Serialization;

namespace Distill.Stages.Results;

/// <summary><c>&lt;role&gt;_init_from_teacher</c>: which teacher layers the student was initialised from, and how many tensors.</summary>
public sealed record InitFromTeacherReport
{
    [JsonPropertyName("teacher_layers")] public required List<int> TeacherLayers { get; init; }

    [JsonPropertyName("copied")] public required int Copied { get; init; }

    [JsonPropertyName("truncated")] public required int Truncated { get; init; }
}
