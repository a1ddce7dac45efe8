using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Data;

/// <summary>
/// The classes of a table or folder dataset and how a label as written in the data maps to a class id.
/// <list type="bullet">
/// <item>Given names (the recipe's <c>labels</c>): a label is one of the names (id = its position); when no name is
/// itself an integer, an integer label <c>k</c> in 0..n−1 is the id of the k-th name (data written with ids,
/// names given for reports).</item>
/// <item>Collected from the training split: the distinct labels, sorted — numerically when every one is an integer
/// (<c>2</c> before <c>10</c>; written back in canonical form), else ordinally.</item>
/// </list>
/// </summary>
public sealed class ClassLabels
{
    private readonly Dictionary<string, int> _ids;
    private readonly bool _integerNames;
    private readonly bool _idsAllowed;

    private ClassLabels(IReadOnlyList<string> names, bool collected)
    {
        Names = names;
        Collected = collected;
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++) _ids.TryAdd(names[i], i);
        _integerNames = collected && names.All(n => IsInteger(n));
        _idsAllowed = !collected && !names.Any(n => IsInteger(n));
    }

    /// <summary>Class names in id order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>True when the names were collected from the training split rather than given in the recipe.</summary>
    public bool Collected { get; }

    public int Count => Names.Count;

    /// <summary>The recipe's <c>labels</c>.</summary>
    public static ClassLabels Given(IReadOnlyList<string> names) => new(names, false);

    /// <summary>The distinct <paramref name="values"/>, sorted (numerically when all are integers).</summary>
    public static ClassLabels Collect(IEnumerable<string> values)
    {
        var distinct = values.Distinct(StringComparer.Ordinal).ToList();
        List<string> names = distinct.Count > 0 && distinct.All(v => IsInteger(v))
            ? [.. distinct.Select(v => long.Parse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)).Distinct().Order()
                .Select(v => v.ToString(CultureInfo.InvariantCulture))]
            : [.. distinct.Order(StringComparer.Ordinal)];
        return new ClassLabels(names, true);
    }

    /// <summary>The class id of a label as written in the data; false when it names no class.</summary>
    public bool TryGetId(string label, out int id)
    {
        if (_ids.TryGetValue(label, out id)) return true;
        if ((_integerNames || _idsAllowed) && long.TryParse(label, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long k))
        {
            if (_integerNames) return _ids.TryGetValue(k.ToString(CultureInfo.InvariantCulture), out id);
            if (k >= 0 && k < Names.Count) { id = (int)k; return true; }
        }
        id = -1;
        return false;
    }

    /// <summary>What the labels may be, for an error about one that is not a class.</summary>
    public string Describe()
    {
        string names = string.Join(", ", Names.Take(20).Select(n => $"'{n}'")) + (Names.Count > 20 ? $", … ({Names.Count} in all)" : "");
        return Collected
            ? $"the classes found in the training split are {names}"
            : _idsAllowed ? $"data.labels lists {names} (ids 0-{Names.Count - 1} are accepted too)" : $"data.labels lists {names}";
    }

    private static bool IsInteger(string s) =>
        s.Length > 0 && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);

    /// <summary>
    /// The labels of a batch of a table or folder dataset as a (B) int64 tensor, or null when any example is unlabelled
    /// (label −1: the inputs of <c>distill predict</c>), so that no loss is computed on made-up labels.
    /// </summary>
    public static Tensor? BatchLabels(int[] labels, ReadOnlySpan<int> indices)
    {
        var batch = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            batch[i] = labels[indices[i]];
            if (batch[i] < 0) return null;
        }
        return torch.tensor(batch);
    }
}
