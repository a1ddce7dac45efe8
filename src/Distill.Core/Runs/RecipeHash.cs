using System.Security.Cryptography;
using System.Text;

namespace Distill.Runs;

/// <summary>The recipe identity of a run: SHA-256 (hex) of the recipe file's bytes followed by each <c>--set</c> override on its own line.</summary>
public static class RecipeHash
{
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
}
