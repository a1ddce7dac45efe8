using System.Globalization;
using Distill.Schema;
using YamlDotNet.RepresentationModel;

namespace Distill.Models.Init;

/// <summary>
/// Which teacher encoder layers a student initialised from the teacher copies: student layer i gets teacher layer
/// <c>Resolve(L)[i]</c>. Indices are 0-based encoder-layer numbers, as in the state-dict keys
/// (<c>bert.encoder.layer.N</c>, <c>vit.encoder.layer.N</c>, <c>wav2vec2.encoder.layers.N</c>).
/// </summary>
/// <remarks>
/// YAML forms (the value of <c>student.init_from_teacher.layers</c>):
/// <list type="bullet">
/// <item><c>all</c> (the default): every teacher layer.</item>
/// <item><c>every_k</c> (or <c>every:k</c>): teacher layers 0, k, 2k, … below L, so ⌈L/k⌉ student layers and student
/// layer i = teacher layer k·i. <c>every_2</c> is DistilBERT's "one layer out of two" (Sanh et al. 2019).</item>
/// <item><c>skip:k</c> (or <c>skip_k</c>): teacher layers k−1, 2k−1, … below L, so ⌊L/k⌋ student layers, the last layer
/// of each block of k. These are exactly the teacher layers that the loss layer mapping <c>skip:k</c> pairs with student
/// layers 1..N (1-based there), so a student initialised and distilled with the same k starts where its targets are.</item>
/// <item>a list such as <c>[0, 2, 5]</c>: the given teacher layers, in the given order (distinct, each in [0, L)).</item>
/// </list>
/// </remarks>
public sealed class LayerSelection : IRecipeValue<LayerSelection>
{
    private const string Forms = "expected 'all', 'every_k', 'skip:k' (k a positive integer) or a list of teacher layer indices such as [0, 2, 5] (0-based)";

    private readonly int[] _indices;

    private LayerSelection(LayerSelectionKind kind, int step, int[] indices)
    {
        Kind = kind;
        Step = step;
        _indices = indices;
    }

    public LayerSelectionKind Kind { get; }

    /// <summary>The k of <c>every_k</c> / <c>skip:k</c>, the n of <see cref="Spread"/>; 0 for the other forms.</summary>
    public int Step { get; }

    /// <summary>The indices of an explicit list; empty for the other forms.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <summary>Every teacher layer.</summary>
    public static LayerSelection All { get; } = new(LayerSelectionKind.All, 0, []);

    /// <summary>Teacher layers 0, k, 2k, …</summary>
    public static LayerSelection Every(int k) => k >= 1
        ? new(LayerSelectionKind.Every, k, [])
        : throw new ArgumentOutOfRangeException(nameof(k), k, "every_k needs k >= 1.");

    /// <summary>Teacher layers k−1, 2k−1, …</summary>
    public static LayerSelection Skip(int k) => k >= 1
        ? new(LayerSelectionKind.Skip, k, [])
        : throw new ArgumentOutOfRangeException(nameof(k), k, "skip:k needs k >= 1.");

    /// <summary>
    /// <paramref name="n"/> student layers spread uniformly over the teacher's L: student layer i ← teacher layer
    /// ⌈(i + 1)·L/n⌉ − 1, the last layer of each of n near-equal blocks (so always the teacher's last layer). When n
    /// divides L it is <c>skip:k</c> with k = L/n; with n = L it is <c>all</c>; a student deeper than the teacher
    /// (n &gt; L) repeats teacher layers. The design stage initialises its candidates with it.
    /// </summary>
    public static LayerSelection Spread(int n) => n >= 0
        ? new(LayerSelectionKind.Spread, n, [])
        : throw new ArgumentOutOfRangeException(nameof(n), n, "spread needs n >= 0 student layers.");

    /// <summary>The given teacher layers, in order.</summary>
    public static LayerSelection List(IEnumerable<int> indices)
    {
        var array = indices.ToArray();
        if (array.Length == 0) throw new ArgumentException("A list of teacher layers needs at least one index.", nameof(indices));
        return new(LayerSelectionKind.List, 0, array);
    }

    /// <summary>The YAML text of the selection.</summary>
    public override string ToString() => Kind switch
    {
        LayerSelectionKind.All => "all",
        LayerSelectionKind.Every => $"every_{Step}",
        LayerSelectionKind.Skip => $"skip:{Step}",
        LayerSelectionKind.Spread => $"spread:{Step}",
        _ => "[" + string.Join(", ", _indices) + "]",
    };

    /// <summary>Why the selection does not fit a teacher with <paramref name="teacherLayers"/> layers; null when it fits.</summary>
    public string? Problem(int teacherLayers)
    {
        switch (Kind)
        {
            case LayerSelectionKind.Spread when Step > 0 && teacherLayers == 0:
                return $"spread:{Step} has no teacher layer to start from (the teacher has none)";
            case LayerSelectionKind.Skip when Step > teacherLayers:
                return $"skip:{Step} selects no layer of a {teacherLayers}-layer teacher (k must be at most {teacherLayers})";
            case LayerSelectionKind.List:
                var bad = _indices.Where(i => i < 0 || i >= teacherLayers).ToList();
                if (bad.Count > 0)
                    return $"teacher layer{(bad.Count == 1 ? "" : "s")} {string.Join(", ", bad)} out of range: the teacher has {teacherLayers} layers, indices 0..{teacherLayers - 1}";
                var dup = _indices.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
                if (dup.Count > 0) return $"teacher layer{(dup.Count == 1 ? "" : "s")} {string.Join(", ", dup)} listed twice; list each layer once";
                return null;
            default:
                return null;
        }
    }

    /// <summary>The teacher layer of each student layer, for a teacher with <paramref name="teacherLayers"/> layers.</summary>
    /// <exception cref="ArgumentException">The selection does not fit (see <see cref="Problem"/>).</exception>
    public IReadOnlyList<int> Resolve(int teacherLayers)
    {
        if (Problem(teacherLayers) is { } problem) throw new ArgumentException($"init_from_teacher.layers {this}: {problem}.");
        return Kind switch
        {
            LayerSelectionKind.All => Enumerable.Range(0, teacherLayers).ToList(),
            LayerSelectionKind.Every => Enumerable.Range(0, (teacherLayers + Step - 1) / Step).Select(i => i * Step).ToList(),
            LayerSelectionKind.Skip => Enumerable.Range(1, teacherLayers / Step).Select(i => i * Step - 1).ToList(),
            // ⌈(i+1)·L/n⌉ − 1 in integers: ((i+1)·L + n − 1) / n − 1.
            LayerSelectionKind.Spread => Enumerable.Range(0, Step).Select(i => (int)(((long)(i + 1) * teacherLayers + Step - 1) / Step) - 1).ToList(),
            _ => _indices.ToList(),
        };
    }

    /// <summary>Parses <c>all</c>, <c>every_k</c>/<c>every:k</c>, <c>skip:k</c>/<c>skip_k</c> or a list of integers.</summary>
    public static LayerSelection? FromYaml(YamlNode node, out string? error)
    {
        error = null;
        switch (node)
        {
            case YamlScalarNode scalar:
            {
                string text = (scalar.Value ?? "").Trim();
                if (text == "all") return All;
                foreach (var (prefix, make) in new (string, Func<int, LayerSelection>)[] { ("every", Every), ("skip", Skip) })
                {
                    if (!text.StartsWith(prefix, StringComparison.Ordinal) || text.Length <= prefix.Length || text[prefix.Length] is not ('_' or ':')) continue;
                    string k = text[(prefix.Length + 1)..].Trim();
                    if (int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out int step) && step >= 1) return make(step);
                    error = $"'{text}': the k of {prefix}_k must be a positive integer, for example {prefix}_2";
                    return null;
                }
                error = $"'{text}' is not a layer selection; {Forms}";
                return null;
            }
            case YamlSequenceNode sequence:
            {
                if (sequence.Children.Count == 0)
                {
                    error = $"the list of teacher layers is empty; {Forms}";
                    return null;
                }
                var indices = new List<int>();
                for (int i = 0; i < sequence.Children.Count; i++)
                {
                    if (sequence.Children[i] is not YamlScalarNode { Value: { } v }
                        || !int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                    {
                        error = $"item {i} of the teacher layers must be a non-negative integer (a 0-based teacher layer index), got {YamlNodes.Describe(sequence.Children[i])}";
                        return null;
                    }
                    indices.Add(index);
                }
                return List(indices);
            }
            default:
                error = $"a mapping is not a layer selection; {Forms}";
                return null;
        }
    }
}
