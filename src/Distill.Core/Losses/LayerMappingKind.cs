namespace Distill.Losses;

/// <summary>The form of a <see cref="LayerMapping"/>.</summary>
public enum LayerMappingKind
{
    /// <summary>TinyBERT's uniform strategy: student layer m ↔ teacher layer m·N_t/N_s.</summary>
    Uniform,

    /// <summary>Only the last layers: (N_s, N_t).</summary>
    Last,

    /// <summary><c>skip:k</c>: student layer i ↔ teacher layer i·k.</summary>
    Skip,

    /// <summary>An explicit list of <c>[student_layer, teacher_layer]</c> pairs.</summary>
    Explicit,
}
