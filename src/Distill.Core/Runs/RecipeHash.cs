using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Distill.Runs;

/// <summary>The recipe identity of a run: SHA-256 (hex) of the recipe file's bytes followed by each <c>--set</c> override on its own line.</summary>
public static partial class RecipeHash
{
    /// <summary>The settings a <c>--resume</c> may change through <c>--set</c>: they steer how the remaining steps go
    /// (recovering from divergence needs a lower lr, clipping or a guard), not what the run is.</summary>
    public static IReadOnlyList<string> ResumeChangeableKeys { get; } = ["lr", "grad_clip", "max_loss", "loss_spike"];

    public static string Compute(string recipePath, IReadOnlyList<string> overrides)
    {
        using var sha = SHA256.Create();
        var bytes = File.ReadAllBytes(recipePath);
        sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
        foreach (var o in overrides)
        {
            var line = Encoding.UTF8.GetBytes("\n--set " + o);
            sha.TransformBlock(line, 0, line.Length, null, 0);
        }
        sha.TransformFinalBlock([], 0, 0);
        return Convert.ToHexStringLower(sha.Hash!);
    }

    /// <summary>The identity a resume is checked against: <see cref="Compute"/> without the overrides of
    /// <see cref="ResumeChangeableKeys"/>, so those may differ between the start and a resume while the recipe file and
    /// every other override may not.</summary>
    public static string ComputeForResume(string recipePath, IReadOnlyList<string> overrides) =>
        Compute(recipePath, overrides.Where(o => !IsResumeChangeable(o)).ToList());

    /// <summary>Whether <c>--set key.path=value</c> sets one of <see cref="ResumeChangeableKeys"/> (top-level <c>train.</c> or a stage's <c>stages.N.train.</c>).</summary>
    public static bool IsResumeChangeable(string setOverride)
    {
        int eq = setOverride.IndexOf('=');
        return eq > 0 && ChangeablePath().IsMatch(setOverride[..eq].Trim());
    }

    [GeneratedRegex(@"^(train|stages\.[0-9]+\.train)\.(lr|grad_clip|max_loss|loss_spike)$", RegexOptions.CultureInvariant)]
    private static partial Regex ChangeablePath();
}
