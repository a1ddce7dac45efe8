using Xunit;

namespace Distill.Tests;

/// <summary>
/// A provenance check against the origin copies in <see cref="TestPaths.SharedData"/>: skipped (with the reason shown)
/// where that folder is absent, as in a user's clone; everything else the suite reads is in the repository.
/// </summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (!Directory.Exists(TestPaths.SharedData))
            Skip = $"provenance check: needs the origin data at {TestPaths.SharedData} (set DISTILL_SHARED_DATA)";
    }
}
