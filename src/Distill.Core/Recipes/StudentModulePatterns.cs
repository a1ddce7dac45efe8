using Distill.Compression.Pruning;

namespace Distill.Recipes;

/// <summary>The module-path check that the prune, quantize and weightless stages share: each pattern must match a
/// module of the student; the error names the nearest module paths.</summary>
internal static class StudentModulePatterns
{
    /// <summary>One error per non-empty pattern that matches no module (empty ones are the spec's own error).</summary>
    public static IEnumerable<(string Key, string Message)> Check(IEnumerable<(string Key, string Pattern)> patterns, IReadOnlySet<string> studentModules)
    {
        foreach (var (key, pattern) in patterns)
        {
            if (string.IsNullOrWhiteSpace(pattern)) continue;
            var glob = new ModuleGlob(pattern);
            if (!studentModules.Any(glob.IsMatch))
                yield return (key, $"pattern '{pattern}' matches no module of the student; module paths look like: " +
                                   string.Join(", ", TextDistance.Nearest(pattern, studentModules, 4)));
        }
    }
}
