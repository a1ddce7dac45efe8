using Distill.Models;

namespace Distill.Stages;

/// <summary>A design stage's pick: the student architecture later stages build (see <see cref="ModelFactory.BuildDesigned"/>).</summary>
/// <param name="Family">The model family key.</param>
/// <param name="Config">The picked config.</param>
/// <param name="InitFromTeacher">Whether a built student copies the teacher's tensors where name and shape match.</param>
/// <param name="Stage">The design stage's name, for the log.</param>
public sealed record DesignedStudent(string Family, IModelConfig Config, bool InitFromTeacher, string Stage);
