using System.Globalization;
using Distill.Schema;
using YamlDotNet.RepresentationModel;
using static TorchSharp.torch;

namespace Distill.Compression.Pruning;

/// <summary>
/// One per-layer sparsity the automatic allocation (<see cref="Allocation.BudgetAllocation"/>) may choose for a weight:
/// a fraction (magnitude pruning of that layer alone to at least that fraction of zeros; <c>0</c> keeps the layer's
/// current mask) or an N:M pattern (<c>"2:4"</c>). Written in a recipe as a number or a quoted pattern:
/// <c>candidate_sparsity: [0, "2:4", 0.75]</c>. Zeros left by earlier stages always stay zero.
/// </summary>
public sealed record SparsityChoice : IRecipeValue<SparsityChoice>
{
    private SparsityChoice(double fraction, NmPattern? pattern) => (Fraction, Pattern) = (fraction, pattern);

    /// <summary>Fraction of zeros asked for (for N:M, 1 − N/M).</summary>
    public double Fraction { get; }

    /// <summary>The N:M pattern, or null for unstructured magnitude pruning.</summary>
    public NmPattern? Pattern { get; }

    /// <summary>The current mask, unchanged.</summary>
    public static SparsityChoice Keep { get; } = new(0, null);

    public static SparsityChoice Unstructured(double fraction) => fraction is >= 0 and < 1
        ? new SparsityChoice(fraction, null)
        : throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "a sparsity is a fraction in [0, 1)");

    public static SparsityChoice Nm(NmPattern pattern) => new(pattern.Sparsity, pattern);

    /// <summary>
    /// The layer's mask under this choice (an owned tensor), or null with <paramref name="whyNot"/> when the choice cannot
    /// apply to this weight (an N:M pattern whose M does not divide the weight's rows).
    /// </summary>
    public Tensor? Mask(Tensor weight, Tensor current, string name, out string? whyNot)
    {
        whyNot = null;
        if (Pattern is { } p)
        {
            if (!NmPruning.Fits(weight, p))
            {
                whyNot = $"{p} needs rows whose length is a multiple of {p.M}; '{name}' has shape [{string.Join(", ", weight.shape)}]";
                return null;
            }
            // N:M never revives a weight an earlier stage removed.
            using var nm = NmPruning.Mask(weight, current, p, name);
            return nm.logical_and(current);
        }
        return Fraction == 0 ? current.clone() : MagnitudePruning.LayerMask(weight, current, Fraction);
    }

    public static SparsityChoice? FromYaml(YamlNode node, out string? error)
    {
        if (node is not YamlScalarNode { Value: { } text })
        {
            error = $"expected a sparsity fraction such as 0.5 or an N:M pattern such as \"2:4\", got {YamlNodes.Describe(node)}";
            return null;
        }
        if (text.Contains(':'))
            return NmPattern.TryParse(text, out var p, out error) ? Nm(p!) : null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && f is >= 0 and < 1)
        {
            error = null;
            return Unstructured(f);
        }
        error = $"expected a sparsity fraction in [0, 1) (0 = keep the current mask) or an N:M pattern such as \"2:4\", got '{text}'";
        return null;
    }

    public override string ToString() => Pattern?.ToString() ?? (Fraction == 0 ? "keep" : Fraction.ToString("0.###", CultureInfo.InvariantCulture));
}
