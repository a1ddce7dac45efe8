using Distill.Schema;

namespace Distill.Models.Init;

/// <summary>
/// <c>student.init_from_teacher</c>: the student is the teacher's architecture with fewer layers and optionally
/// narrower sizes, initialised from the teacher's weights by <see cref="TeacherInit"/> (DistilBERT-style, Sanh et al.
/// 2019). The student's <c>model</c> and <c>config</c> are derived from the teacher's config (so the student gives no
/// <c>config</c>); every key left out keeps the teacher's value.
/// <code>
/// student:
///   init_from_teacher:
///     layers: every_2          # all | every_k | skip:k | [0, 2, 5]
///     hidden_size: 16          # optional, at most the teacher's
///     num_attention_heads: 2   # optional, at most the teacher's; must divide hidden_size
///     intermediate_size: 24    # optional, at most the teacher's
/// </code>
/// </summary>
public sealed record InitFromTeacherSpec
{
    /// <summary>Which teacher layers become the student's (see <see cref="LayerSelection"/>).</summary>
    public LayerSelection Layers { get; init; } = LayerSelection.All;

    /// <summary>Student width; null = the teacher's. Narrower widths use truncation init (see <see cref="TeacherInit"/>).</summary>
    [Bounds(1, int.MaxValue)] public int? HiddenSize { get; init; }

    /// <summary>Student heads; null = the teacher's. Student head j starts from teacher head j.</summary>
    [Bounds(1, int.MaxValue)] public int? NumAttentionHeads { get; init; }

    /// <summary>Student feed-forward width; null = the teacher's.</summary>
    [Bounds(1, int.MaxValue)] public int? IntermediateSize { get; init; }
}
