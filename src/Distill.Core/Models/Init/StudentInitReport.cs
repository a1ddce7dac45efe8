namespace Distill.Models.Init;

/// <summary>What <see cref="TeacherInit.Apply"/> (or <see cref="TeacherInit.ApplyWhereFits"/>) did.</summary>
/// <param name="Layers">The teacher layer of each student layer (student layer i = teacher layer <c>Layers[i]</c>).</param>
/// <param name="Copied">Student keys copied whole from the teacher.</param>
/// <param name="Truncated">Student keys filled with a truncated teacher tensor (narrower student).</param>
public sealed record StudentInitReport(IReadOnlyList<int> Layers, IReadOnlyList<string> Copied, IReadOnlyList<string> Truncated)
{
    /// <summary>Student keys left with their fresh initialisation (<see cref="TeacherInit.ApplyWhereFits"/> only: units
    /// that do not fit the teacher).</summary>
    public IReadOnlyList<string> Fresh { get; init; } = [];

    /// <summary>Student tensors taken from the teacher (copied or truncated).</summary>
    public int FromTeacher => Copied.Count + Truncated.Count;

    /// <summary>One line for the run log.</summary>
    public override string ToString() =>
        $"student layers <- teacher layers [{string.Join(", ", Layers)}]; {Copied.Count} tensors copied, {Truncated.Count} truncated";
}
