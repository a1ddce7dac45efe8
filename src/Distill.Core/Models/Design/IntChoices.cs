using System.Globalization;
using Distill.Schema;
using YamlDotNet.RepresentationModel;

namespace Distill.Models.Design;

/// <summary>
/// The values one dimension of a design search space may take (a discrete range). Written as a single integer
/// (<c>4</c>: fixed), a list (<c>[2, 4, 6]</c>), or a range mapping <c>{min: 64, max: 256, step: 64}</c> (arithmetic)
/// or <c>{min: 4, max: 32, factor: 2}</c> (geometric). Values are positive, distinct and kept in ascending order.
/// </summary>
public sealed class IntChoices : IRecipeValue<IntChoices>
{
    /// <summary>More values than this in one dimension is almost certainly a typo (a step of 1 over a wide range).</summary>
    public const int MaxValues = 4096;

    public IntChoices(IEnumerable<int> values)
    {
        Values = values.Distinct().Order().ToList();
        if (Values.Count == 0) throw new ArgumentException("A search dimension needs at least one value.", nameof(values));
        if (Values[0] < 1) throw new ArgumentException($"Search values must be positive, got {Values[0]}.", nameof(values));
    }

    /// <summary>The distinct values, ascending.</summary>
    public IReadOnlyList<int> Values { get; }

    public override string ToString() => "[" + string.Join(", ", Values.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";

    public static IntChoices? FromYaml(YamlNode node, out string? error)
    {
        error = null;
        switch (node)
        {
            case YamlScalarNode s:
                if (!TryInt(s, out int single, out error)) return null;
                return Make([single], out error);
            case YamlSequenceNode seq:
            {
                if (seq.Children.Count == 0) { error = "expected at least one value, got an empty list"; return null; }
                var values = new List<int>();
                for (int i = 0; i < seq.Children.Count; i++)
                {
                    if (seq.Children[i] is not YamlScalarNode item || !TryInt(item, out int v, out error))
                    {
                        error = $"item {i}: {error ?? "expected a positive integer, got a " + (seq.Children[i] is YamlMappingNode ? "mapping" : "list")}";
                        return null;
                    }
                    values.Add(v);
                }
                if (values.Count != values.Distinct().Count())
                {
                    error = $"the list {Format(values)} repeats a value; give each value once";
                    return null;
                }
                return Make(values, out error);
            }
            case YamlMappingNode map:
                return FromRange(map, out error);
            default:
                error = "expected an integer, a list of integers or a range {min, max, step | factor}";
                return null;
        }
    }

    private static IntChoices? FromRange(YamlMappingNode map, out string? error)
    {
        error = null;
        var fields = new Dictionary<string, int>(StringComparer.Ordinal);
        string[] known = ["min", "max", "step", "factor"];
        foreach (var kv in map.Children)
        {
            string key = (kv.Key as YamlScalarNode)?.Value ?? "";
            if (!known.Contains(key))
            {
                error = $"unknown range key '{key}'; a range is {{min, max, step}} or {{min, max, factor}}";
                return null;
            }
            if (kv.Value is not YamlScalarNode v || !TryInt(v, out int value, out error))
            {
                error = $"range key '{key}': {error ?? "expected a positive integer"}";
                return null;
            }
            fields[key] = value;
        }
        if (!fields.TryGetValue("min", out int min) || !fields.TryGetValue("max", out int max))
        {
            error = "a range needs both min and max, e.g. {min: 64, max: 256, step: 64}";
            return null;
        }
        if (min > max) { error = $"min {min} is larger than max {max}"; return null; }
        bool hasStep = fields.TryGetValue("step", out int step), hasFactor = fields.TryGetValue("factor", out int factor);
        if (hasStep == hasFactor)
        {
            error = "a range needs exactly one of step (arithmetic: min, min+step, ...) and factor (geometric: min, min*factor, ...)";
            return null;
        }
        if (hasFactor && factor < 2) { error = $"factor must be at least 2, got {factor}"; return null; }
        var values = new List<int>();
        for (long v = min; v <= max; v = hasStep ? v + step : v * factor)
        {
            values.Add((int)v);
            if (values.Count > MaxValues)
            {
                error = $"the range {min}..{max} has more than {MaxValues} values; use a larger step";
                return null;
            }
        }
        return Make(values, out error);
    }

    private static IntChoices? Make(List<int> values, out string? error)
    {
        error = null;
        if (values.Count > MaxValues) { error = $"more than {MaxValues} values; use a coarser range"; return null; }
        return new IntChoices(values);
    }

    private static bool TryInt(YamlScalarNode node, out int value, out string? error)
    {
        error = null;
        if (int.TryParse(node.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && value >= 1) return true;
        error = $"expected a positive integer, got '{node.Value}'";
        return false;
    }

    private static string Format(IEnumerable<int> values) => "[" + string.Join(", ", values) + "]";
}
