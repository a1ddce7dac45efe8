namespace Distill.Models.Init;

/// <summary>What <see cref="TeacherInit.Apply"/> did.</summary>
/// <param name="Layers">The teacher layer of each student layer (student layer i = teacher layer <c>Layers[i]</c>).</param>
/// <param name="Copied">Student keys copied whole from the teacher.</param>
/// <param name="Truncated">Student keys filled with a truncated teacher tensor (narrower student).</param>
public sealed record StudentInitReport(IReadOnlyList<int> Layers, IReadOnlyList<string> Copied, IReadOnlyList<string> Truncated)
{
    /// <summary>One line for the run log.</summary>
    public override string ToString() =>
        $"student layers <- teacher layers [{string.Join(", ", Layers)}]; {Copied.Count} tensors copied, {Truncated.Count} truncated";
}
