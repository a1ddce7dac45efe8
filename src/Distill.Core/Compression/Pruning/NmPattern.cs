using System.Text.RegularExpressions;
using Distill.Schema;
using YamlDotNet.RepresentationModel;

namespace Distill.Compression.Pruning;

/// <summary>
/// N:M fine-grained structured sparsity (Mishra et al. 2021, "Accelerating Sparse Deep Neural Networks"; Zhou et al.
/// 2021): in every group of <see cref="M"/> consecutive weights along a row's input (reduction) dimension at most
/// <see cref="N"/> are non-zero. 2:4 is what Ampere sparse tensor cores execute; sparsity is 1 − N/M. Written
/// <c>"2:4"</c> in a recipe (quote it: YAML reads bare <c>2:4</c> as a string too, but quoting keeps it unambiguous).
/// </summary>
public sealed partial record NmPattern(int N, int M) : IRecipeValue<NmPattern>
{
    public double Sparsity => 1.0 - (double)N / M;

    public static NmPattern Parse(string text) => TryParse(text, out var p, out var error)
        ? p!
        : throw new FormatException(error);

    public static bool TryParse(string text, out NmPattern? pattern, out string? error)
    {
        pattern = null;
        var m = Syntax().Match(text.Trim());
        if (!m.Success || !int.TryParse(m.Groups[1].Value, out int n) || !int.TryParse(m.Groups[2].Value, out int mm))
        {
            error = $"expected an N:M pattern such as \"2:4\" (keep N of every M weights), got '{text}'";
            return false;
        }
        if (n < 1 || mm < 2 || n >= mm || mm > 256)
        {
            error = $"N:M needs 1 <= N < M <= 256 (e.g. \"2:4\"), got '{text}'";
            return false;
        }
        pattern = new NmPattern(n, mm);
        error = null;
        return true;
    }

    public static NmPattern? FromYaml(YamlNode node, out string? error)
    {
        if (node is not YamlScalarNode { Value: { } text })
        {
            error = $"expected an N:M pattern such as \"2:4\", got {YamlNodes.Describe(node)}";
            return null;
        }
        return TryParse(text, out var p, out error) ? p : null;
    }

    public override string ToString() => $"{N}:{M}";

    [GeneratedRegex(@"^([0-9]+)\s*:\s*([0-9]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex Syntax();
}
