using Xunit;

namespace Distill.Tests;

/// <summary>The theory form of <see cref="SharedDataFactAttribute"/>: skipped where the origin data is absent.</summary>
public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    public SharedDataTheoryAttribute()
    {
        if (!Directory.Exists(TestPaths.SharedData))
            Skip = $"provenance check: needs the origin data at {TestPaths.SharedData} (set DISTILL_SHARED_DATA)";
    }
}
