using System.Globalization;
using Distill.Schema;
using YamlDotNet.RepresentationModel;

namespace Distill.Losses;

/// <summary>
/// Which student layer is matched to which teacher layer in the layer-wise losses (hidden states, attention maps,
/// cosine). Layers are numbered 1..N as in <see cref="Distill.Models.ModelOutput.HiddenStates"/>, where 0 is the
/// embedding output (allowed for hidden states only; attention maps start at layer 1).
/// </summary>
/// <remarks>
/// YAML forms:
/// <list type="bullet">
/// <item><c>uniform</c> — TinyBERT (Jiao et al. 2020, "TinyBERT: Distilling BERT for Natural Language Understanding")
/// mapping function g(m) = m·N_t/N_s for m = 1..N_s; needs N_t divisible by N_s.</item>
/// <item><c>last</c> — the last student layer to the last teacher layer, (N_s, N_t).</item>
/// <item><c>skip:k</c> — student layer i ↔ teacher layer i·k for i = 1..N_s; needs N_s·k ≤ N_t.</item>
/// <item>a sequence of pairs, e.g. <c>[[1, 2], [2, 4]]</c> — explicit (student_layer, teacher_layer) numbers.</item>
/// </list>
/// The mapping is resolved against the actual layer counts at build time by <see cref="Resolve"/>.
/// </remarks>
public sealed class LayerMapping : IRecipeValue<LayerMapping>, IEquatable<LayerMapping>
{
    private const string Forms = "expected 'uniform', 'last', 'skip:k' (k a positive integer) or a list of [student_layer, teacher_layer] pairs such as [[1, 2], [2, 4]]";

    private readonly (int Student, int Teacher)[] _pairs;

    private LayerMapping(LayerMappingKind kind, int step, (int, int)[] pairs)
    {
        Kind = kind;
        Step = step;
        _pairs = pairs;
        Text = kind switch
        {
            LayerMappingKind.Uniform => "uniform",
            LayerMappingKind.Last => "last",
            LayerMappingKind.Skip => $"skip:{step}",
            _ => "[" + string.Join(", ", pairs.Select(p => $"[{p.Item1}, {p.Item2}]")) + "]",
        };
    }

    public LayerMappingKind Kind { get; }

    /// <summary>The k of <c>skip:k</c>; 0 for the other forms.</summary>
    public int Step { get; }

    /// <summary>The pairs of an explicit mapping; empty for the other forms.</summary>
    public IReadOnlyList<(int Student, int Teacher)> ExplicitPairs => _pairs;

    /// <summary>The YAML text of the mapping (round-trips through <see cref="FromYaml"/>).</summary>
    public string Text { get; }

    public static LayerMapping Uniform { get; } = new(LayerMappingKind.Uniform, 0, []);

    public static LayerMapping Last { get; } = new(LayerMappingKind.Last, 0, []);

    public static LayerMapping Skip(int step) => step >= 1
        ? new(LayerMappingKind.Skip, step, [])
        : throw new ArgumentOutOfRangeException(nameof(step), step, "skip:k needs k >= 1.");

    public static LayerMapping Pairs(IEnumerable<(int Student, int Teacher)> pairs)
    {
        var array = pairs.ToArray();
        if (array.Length == 0) throw new ArgumentException("An explicit layer mapping needs at least one pair.", nameof(pairs));
        if (array.Any(p => p.Student < 0 || p.Teacher < 0))
            throw new ArgumentException("Layer numbers cannot be negative (0 is the embedding output, 1..N the layers).", nameof(pairs));
        return new(LayerMappingKind.Explicit, 0, array);
    }

    /// <summary>Parses a scalar (<c>uniform</c>, <c>last</c>, <c>skip:k</c>) or a sequence of two-integer sequences.</summary>
    public static LayerMapping? FromYaml(YamlNode node, out string? error)
    {
        error = null;
        switch (node)
        {
            case YamlScalarNode scalar:
            {
                string text = (scalar.Value ?? "").Trim();
                if (text == "uniform") return Uniform;
                if (text == "last") return Last;
                if (text.StartsWith("skip:", StringComparison.Ordinal))
                {
                    string k = text["skip:".Length..].Trim();
                    if (int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out int step) && step >= 1)
                        return Skip(step);
                    error = $"'{text}': the k of skip:k must be a positive integer, for example skip:2";
                    return null;
                }
                error = $"'{text}' is not a layer mapping; {Forms}";
                return null;
            }
            case YamlSequenceNode sequence:
            {
                if (sequence.Children.Count == 0)
                {
                    error = $"the list of layer pairs is empty; {Forms}";
                    return null;
                }
                var pairs = new List<(int, int)>();
                for (int i = 0; i < sequence.Children.Count; i++)
                {
                    if (sequence.Children[i] is not YamlSequenceNode pair || pair.Children.Count != 2
                        || !TryLayer(pair.Children[0], out int s) || !TryLayer(pair.Children[1], out int t))
                    {
                        error = $"item {i} of the layer pairs must be [student_layer, teacher_layer] with two non-negative integers (0 = embedding output, 1..N = layers)";
                        return null;
                    }
                    pairs.Add((s, t));
                }
                return Pairs(pairs);
            }
            default:
                error = $"a mapping is not a layer mapping; {Forms}";
                return null;
        }
    }

    /// <summary>
    /// The (student, teacher) layer numbers for models with <paramref name="studentLayers"/> and
    /// <paramref name="teacherLayers"/> layers. Throws <see cref="ArgumentException"/> with the reason when the mapping
    /// does not fit (N_t not divisible by N_s for <c>uniform</c>, a layer number out of range...).
    /// </summary>
    /// <param name="allowEmbedding">Whether layer 0 (the embedding output) may appear; false for attention maps.</param>
    public IReadOnlyList<(int Student, int Teacher)> Resolve(int studentLayers, int teacherLayers, bool allowEmbedding = true)
    {
        if (studentLayers < 1 || teacherLayers < 1)
            throw new ArgumentException($"Layer mapping '{Text}' needs models with at least one layer (student has {studentLayers}, teacher has {teacherLayers}).");
        List<(int, int)> pairs;
        switch (Kind)
        {
            case LayerMappingKind.Uniform:
                if (teacherLayers % studentLayers != 0)
                    throw new ArgumentException(
                        $"Layer mapping 'uniform' maps student layer m to teacher layer m·N_t/N_s, which needs the teacher's {teacherLayers} layers " +
                        $"to be a multiple of the student's {studentLayers}. Use 'last', 'skip:k' or explicit [student_layer, teacher_layer] pairs.");
                int ratio = teacherLayers / studentLayers;
                pairs = Enumerable.Range(1, studentLayers).Select(m => (m, m * ratio)).ToList();
                break;
            case LayerMappingKind.Last:
                pairs = [(studentLayers, teacherLayers)];
                break;
            case LayerMappingKind.Skip:
                if ((long)studentLayers * Step > teacherLayers)
                    throw new ArgumentException(
                        $"Layer mapping 'skip:{Step}' maps student layer {studentLayers} to teacher layer {(long)studentLayers * Step}, " +
                        $"but the teacher has only {teacherLayers} layers. Use a smaller k (at most {teacherLayers / studentLayers}).");
                pairs = Enumerable.Range(1, studentLayers).Select(i => (i, i * Step)).ToList();
                break;
            default:
                pairs = [.. _pairs];
                int lowest = allowEmbedding ? 0 : 1;
                foreach (var (s, t) in _pairs)
                {
                    if (s < lowest || s > studentLayers)
                        throw new ArgumentException($"Layer pair [{s}, {t}]: the student layer must be in {lowest}..{studentLayers} (the student has {studentLayers} layers{EmbeddingNote(allowEmbedding)}).");
                    if (t < lowest || t > teacherLayers)
                        throw new ArgumentException($"Layer pair [{s}, {t}]: the teacher layer must be in {lowest}..{teacherLayers} (the teacher has {teacherLayers} layers{EmbeddingNote(allowEmbedding)}).");
                }
                break;
        }
        return pairs;
    }

    private static string EmbeddingNote(bool allowEmbedding) =>
        allowEmbedding ? "; 0 is the embedding output" : "; layer 0, the embedding output, has no attention map";

    private static bool TryLayer(YamlNode node, out int layer)
    {
        layer = -1;
        return node is YamlScalarNode { Value: { } v }
               && int.TryParse(v.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out layer);
    }

    public bool Equals(LayerMapping? other) => other is not null && Text == other.Text;

    public override bool Equals(object? obj) => Equals(obj as LayerMapping);

    public override int GetHashCode() => Text.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Text;
}
