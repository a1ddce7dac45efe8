namespace Distill.Tests;

/// <summary>Locations of the repository and of the shared reference data (../shared/data beside the checkout).</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The shared data folder: DISTILL_SHARED_DATA if set, else ../shared/data next to the repository.</summary>
    public static string SharedData { get; } =
        Environment.GetEnvironmentVariable("DISTILL_SHARED_DATA") is { Length: > 0 } env ? env
        : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Distill.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find Distill.sln above the test binaries.");
    }
}
