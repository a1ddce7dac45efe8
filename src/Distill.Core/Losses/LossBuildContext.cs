using Distill.Models;

namespace Distill.Losses;

/// <summary>
/// What a loss factory sees: both models and the output shapes of every module and hidden state, measured by one
/// forward pass on a batch of one (so projectors can be sized). Shapes exclude nothing: batch dimension is 1.
/// </summary>
public sealed record LossBuildContext(
    DistillModel Student,
    DistillModel Teacher,
    IReadOnlyDictionary<string, long[]> StudentModuleShapes,
    IReadOnlyDictionary<string, long[]> TeacherModuleShapes,
    IReadOnlyList<long[]> StudentHiddenShapes,
    IReadOnlyList<long[]> TeacherHiddenShapes,
    IReadOnlyList<long[]> StudentAttentionShapes,
    IReadOnlyList<long[]> TeacherAttentionShapes);
