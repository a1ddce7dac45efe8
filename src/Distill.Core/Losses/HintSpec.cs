using Distill.Schema;

namespace Distill.Losses;

/// <summary><c>kind: hint</c> — FitNets hint regression: MSE(projector(student[student]), teacher[teacher]).</summary>
public sealed record HintSpec : LossTermSpec, IModulePathSpec
{
    public HintSpec() => Kind = "hint";

    /// <summary>Student module path whose output is the guided feature (for example <c>blocks.1</c>).</summary>
    [RequiredKey] public string Student { get; init; } = "";

    /// <summary>Teacher module path whose output is the hint.</summary>
    [RequiredKey] public string Teacher { get; init; } = "";

    public IEnumerable<(string Key, string Path, bool Student)> ModulePaths() =>
        [("student", Student, true), ("teacher", Teacher, false)];
}
