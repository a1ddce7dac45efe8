using System.Text.RegularExpressions;

namespace Distill.Models.Init;

/// <summary>
/// What <c>student.init_from_teacher</c> needs to know about one transformer family: how to read and change its sizes in
/// a config record, and (through <see cref="Layout"/>) which state-dict keys are encoder layers and which tensor
/// dimensions are laid out as (heads × head_dim). A family's descriptor returns its rules as
/// <see cref="ModelFamily.InitRules"/> (bert and vit: <see cref="EncoderInitRules"/>); <see cref="StudentInitRegistry"/>
/// lists the families that have them.
/// </summary>
public abstract class StudentInitRules
{
    /// <summary>The <see cref="ModelRegistry"/> key of the family.</summary>
    public abstract string Family { get; }

    /// <summary>The sizes in <paramref name="config"/>.</summary>
    public abstract StudentShape ShapeOf(IModelConfig config);

    /// <summary><paramref name="teacher"/> with the sizes of <paramref name="shape"/> (everything else kept, except
    /// pruned heads: the result has all <c>shape.Heads</c> heads in every layer).</summary>
    protected abstract IModelConfig WithShape(IModelConfig teacher, StudentShape shape);

    /// <summary>Attention heads left in layer <paramref name="layer"/> of <paramref name="config"/> (fewer than
    /// <see cref="StudentShape.Heads"/> where the family's config prunes heads).</summary>
    public virtual int HeadsInLayer(IModelConfig config, int layer) => ShapeOf(config).Heads;

    /// <summary>The student config with the pruned heads of its teacher layers (student layer i gets those of teacher
    /// layer <c>layers[i]</c>); called only when the student keeps the teacher's hidden size and head count, so every
    /// student tensor is an exact copy. Families without head pruning return <paramref name="student"/>.</summary>
    protected virtual IModelConfig WithTeacherPrunedHeads(IModelConfig student, IModelConfig teacher, IReadOnlyList<int> layers) => student;

    /// <summary>The family's layer keys and head dimensions (the same as its <see cref="ModelFamily.InitLayout"/>).</summary>
    public abstract WeightLayout Layout { get; }

    /// <summary>Matches a state-dict key of an encoder layer; group <c>i</c> is the layer index.</summary>
    public Regex LayerKey => Layout.LayerKey;

    /// <summary>True when dimension <paramref name="dim"/> of tensor <paramref name="key"/> is (heads × head_dim): the
    /// output dimension of the query/key/value projections and the input dimension of the attention output projection.</summary>
    public bool IsHeadDim(string key, int dim) => Layout.IsHeadDim(key, dim);

    /// <summary>Family-specific problems, added to <see cref="Validate"/>'s (e.g. a family that cannot narrow a grouped
    /// convolution refuses <c>hidden_size</c>).</summary>
    protected virtual IEnumerable<(string Key, string Message)> FamilyProblems(IModelConfig teacher, InitFromTeacherSpec spec) => [];

    /// <summary>Problems of <paramref name="spec"/> for <paramref name="teacher"/>, each as (key under init_from_teacher, message).</summary>
    public IEnumerable<(string Key, string Message)> Validate(IModelConfig teacher, InitFromTeacherSpec spec)
    {
        foreach (var p in FamilyProblems(teacher, spec)) yield return p;
        var t = ShapeOf(teacher);
        if (spec.Layers.Problem(t.Layers) is { } layers) yield return ("layers", layers);
        int hidden = spec.HiddenSize ?? t.HiddenSize, heads = spec.NumAttentionHeads ?? t.Heads;
        if (hidden > t.HiddenSize)
            yield return ("hidden_size", $"{hidden} is wider than the teacher's {t.HiddenSize}; initialising from the teacher can only keep or narrow the width");
        if (heads > t.Heads)
            yield return ("num_attention_heads", $"{heads} is more than the teacher's {t.Heads} heads; student head j starts from teacher head j, so use at most {t.Heads}");
        if (spec.IntermediateSize is { } ff && ff > t.IntermediateSize)
            yield return ("intermediate_size", $"{ff} is wider than the teacher's {t.IntermediateSize}; use at most {t.IntermediateSize}");
        bool inherits = hidden == t.HiddenSize && heads == t.Heads;
        if (!inherits && heads >= 1 && heads <= t.Heads && spec.Layers.Problem(t.Layers) is null)
        {
            // A head-pruned teacher (pruned_heads): student head j starts from the j-th head the teacher layer kept.
            var (fewest, layer) = spec.Layers.Resolve(t.Layers).Select(l => (HeadsInLayer(teacher, l), l)).Min();
            if (heads > fewest)
                yield return ("num_attention_heads",
                    $"the teacher's layer {layer} keeps only {fewest} of its {t.Heads} heads (pruned_heads), and student head j starts from the j-th head " +
                    $"the teacher layer kept; use at most {fewest} heads, or keep the teacher's hidden_size and num_attention_heads to inherit its pruned_heads");
        }
        if (heads >= 1 && hidden >= 1 && hidden <= t.HiddenSize && heads <= t.Heads)
        {
            if (hidden % heads != 0)
                yield return (spec.HiddenSize is null ? "num_attention_heads" : "hidden_size",
                    $"hidden_size {hidden} is not divisible by num_attention_heads {heads}; choose sizes with hidden_size = heads × head_dim (e.g. num_attention_heads: {Divisors(hidden).Where(d => d <= t.Heads).DefaultIfEmpty(1).Max()})");
            else if (hidden / heads > t.HeadDim)
                yield return ("num_attention_heads",
                    $"a head dim of {hidden / heads} (hidden_size {hidden} / {heads} heads) is wider than the teacher's {t.HeadDim}; use at least {(hidden + t.HeadDim - 1) / t.HeadDim} heads");
        }
    }

    /// <summary>The student's config: the teacher's, with the selected layer count and the spec's sizes. When the
    /// student keeps the teacher's hidden size and head count, it also keeps the selected layers' pruned heads.</summary>
    /// <exception cref="ArgumentException">The spec does not fit the teacher (see <see cref="Validate"/>).</exception>
    public IModelConfig DeriveConfig(IModelConfig teacher, InitFromTeacherSpec spec)
    {
        var problems = Validate(teacher, spec).ToList();
        if (problems.Count > 0)
            throw new ArgumentException("init_from_teacher: " + string.Join("; ", problems.Select(p => $"{p.Key}: {p.Message}")) + ".");
        var t = ShapeOf(teacher);
        var layers = spec.Layers.Resolve(t.Layers);
        var shape = new StudentShape(layers.Count, spec.HiddenSize ?? t.HiddenSize,
            spec.NumAttentionHeads ?? t.Heads, spec.IntermediateSize ?? t.IntermediateSize);
        var student = WithShape(teacher, shape);
        return shape.HiddenSize == t.HiddenSize && shape.Heads == t.Heads ? WithTeacherPrunedHeads(student, teacher, layers) : student;
    }

    private static IEnumerable<int> Divisors(int n) => Enumerable.Range(1, n).Where(d => n % d == 0);
}
