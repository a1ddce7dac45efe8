using System.Globalization;
using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models.Init;

/// <summary>
/// Initialises a student from its teacher (DistilBERT, Sanh et al. 2019: "we initialize the student from the teacher by
/// taking one layer out of two"). Every student tensor comes from the teacher tensor of the same name, with the encoder
/// layer index mapped: student layer i reads teacher layer <c>layers[i]</c>. Embeddings, the final norm, the pooler and
/// the classifier are copied from the teacher's (same name, no layer index).
/// <para><b>Narrower students: truncation init.</b> When the student is narrower (hidden size, heads, feed-forward
/// width), no weight is drawn at random: each student tensor is the teacher tensor restricted, along every dimension
/// where the student is smaller, to its <i>first</i> indices (the first d′ rows/columns), except for dimensions laid out
/// as heads × head_dim (query/key/value rows, attention-output columns), where student head j takes the first e′
/// entries of teacher head j: indices j·e + c for j &lt; h′, c &lt; e′ (e, e′ the teacher's and student's head dims).
/// So a hidden-size cut keeps the first d′ residual features everywhere (embeddings, LayerNorms, every projection's
/// input columns, position embeddings, the patch projection's output channels) and each attention head keeps its own
/// first features. This is the "weight selection" idea of Xu et al. 2024 ("Initializing Models with Larger Ones",
/// ICLR), with first-N selection, consistent across layers. With equal sizes it is an exact copy. A narrower model is
/// not the teacher's function (LayerNorm statistics are over d′ features), only a start closer to it than random.</para>
/// </summary>
public static class TeacherInit
{
    /// <summary>Copies (and where narrower, truncates) the teacher's weights into <paramref name="student"/>.</summary>
    /// <param name="student">Freshly built student with <see cref="StudentInitRules.ShapeOf"/> sizes ≤ the teacher's and
    /// <c>layers.Count</c> encoder layers.</param>
    /// <param name="teacher">The teacher (any device; not changed).</param>
    /// <param name="layers">The teacher layer of each student layer.</param>
    /// <param name="rules">The family's rules.</param>
    /// <exception cref="ArgumentException">Families, layer counts or tensor shapes do not fit; nothing is copied then.</exception>
    public static StudentInitReport Apply(DistillModel student, DistillModel teacher, IReadOnlyList<int> layers, StudentInitRules rules)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(rules);
        if (student.Family != rules.Family || teacher.Family != rules.Family)
            throw new ArgumentException($"init_from_teacher: rules for '{rules.Family}' cannot map a '{teacher.Family}' teacher to a '{student.Family}' student.");
        var s = rules.ShapeOf(student.Config);
        var t = rules.ShapeOf(teacher.Config);
        if (layers.Count != s.Layers)
            throw new ArgumentException($"init_from_teacher: {layers.Count} teacher layers were selected but the student has {s.Layers}.");
        if (layers.Any(l => l < 0 || l >= t.Layers))
            throw new ArgumentException($"init_from_teacher: teacher layers [{string.Join(", ", layers)}] are not all in 0..{t.Layers - 1}.");
        if (s.Heads > t.Heads || s.HeadDim > t.HeadDim)
            throw new ArgumentException($"init_from_teacher: a student with {s.Heads} heads of {s.HeadDim} cannot start from a teacher with {t.Heads} heads of {t.HeadDim}.");

        var teacherState = teacher.state_dict();
        var plan = new List<(Tensor To, Tensor From, long[]?[] Index, string Key)>();
        foreach (var (key, to) in student.state_dict())
        {
            var (from, index, problem) = PlanTensor(key, to, teacherState, layers, rules.Layout, s.HeadDim, t.HeadDim);
            if (problem is not null) throw new ArgumentException(problem);
            plan.Add((to, from!, index!, key));
        }
        return Execute(plan, layers, []);
    }

    /// <summary>
    /// The design stage's initialisation of a candidate from the teacher, by the same rules as <see cref="Apply"/>
    /// (layer map, truncation of narrower widths, heads kept whole), where they can apply: every unit — one layer of the
    /// layer list, or one module outside it — is initialised from the teacher as a whole when each of its tensors has a
    /// teacher source at least as large in every dimension, and otherwise keeps its fresh initialisation (a wider
    /// candidate, a deeper layer with no teacher layer). So a unit never mixes teacher weights with fresh ones. Models
    /// of different families, or of a family without an <see cref="ModelFamily.InitLayout"/>, share nothing.
    /// </summary>
    /// <param name="student">Freshly built student.</param>
    /// <param name="teacher">The teacher (any device; not changed).</param>
    /// <param name="layers">The teacher layer of each student layer; null = <see cref="LayerSelection.Spread"/> of the
    /// student's depth over the teacher's (student layer i ← teacher layer ⌈(i + 1)·L_t/L_s⌉ − 1).</param>
    /// <param name="registry">Where the family's layout is looked up; null = <see cref="ModelRegistry.Default"/>.</param>
    public static StudentInitReport ApplyWhereFits(DistillModel student, DistillModel teacher, IReadOnlyList<int>? layers = null, ModelRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        var studentState = student.state_dict();
        if (teacher.Family != student.Family || !(registry ?? ModelRegistry.Default).TryGet(student.Family, out var family) || family.InitLayout is not { } layout)
            return new StudentInitReport(layers?.ToList() ?? [], [], []) { Fresh = [.. studentState.Keys] };
        var teacherState = teacher.state_dict();
        // A teacher without layers (depth 0) is read as one: the student's layers then find no source and stay fresh.
        layers ??= LayerSelection.Spread(layout.Depth(studentState.Keys)).Resolve(Math.Max(1, layout.Depth(teacherState.Keys)));
        int studentHeadDim = (student.Config as ITransformerEncoderConfig)?.HeadDim ?? 0;
        int teacherHeadDim = (teacher.Config as ITransformerEncoderConfig)?.HeadDim ?? 0;
        var plan = new List<(Tensor To, Tensor From, long[]?[] Index, string Key)>();
        var fresh = new List<string>();
        foreach (var unit in studentState.GroupBy(kv => UnitOf(kv.Key, layout), StringComparer.Ordinal))
        {
            List<(Tensor, Tensor, long[]?[], string)>? planned = [];
            foreach (var (key, to) in unit)
            {
                var (from, index, problem) = PlanTensor(key, to, teacherState, layers, layout, studentHeadDim, teacherHeadDim);
                if (problem is not null) { planned = null; break; }
                planned!.Add((to, from!, index!, key));
            }
            if (planned is null) fresh.AddRange(unit.Select(kv => kv.Key));
            else plan.AddRange(planned);
        }
        return Execute(plan, layers, fresh);
    }

    /// <summary>The unit a student key belongs to: its layer (<c>bert.encoder.layer.3.</c>) or its module path.</summary>
    private static string UnitOf(string key, WeightLayout layout) =>
        layout.LayerKey.Match(key) is { Success: true } m
            ? key[..(m.Index + m.Length)]
            : "module:" + (key.LastIndexOf('.') is var dot and > 0 ? key[..dot] : "");

    /// <summary>Where student tensor <paramref name="key"/> comes from and which indices of each dimension it keeps
    /// (null = all), or why it cannot come from the teacher.</summary>
    private static (Tensor? From, long[]?[]? Index, string? Problem) PlanTensor(string key, Tensor to, IReadOnlyDictionary<string, Tensor> teacherState,
        IReadOnlyList<int> layers, WeightLayout layout, int studentHeadDim, int teacherHeadDim)
    {
        string source;
        try { source = TeacherKey(key, layers, layout.LayerKey); }
        catch (ArgumentException e) { return (null, null, e.Message); }
        if (!teacherState.TryGetValue(source, out var from))
            return (null, null, $"init_from_teacher: the teacher has no tensor '{source}' for the student's '{key}'.");
        if (from.dim() != to.dim())
            return (null, null, $"init_from_teacher: '{key}' has {to.dim()} dimensions in the student but '{source}' has {from.dim()} in the teacher.");
        var index = new long[]?[to.dim()];
        for (int d = 0; d < to.dim(); d++)
        {
            long want = to.shape[d], have = from.shape[d];
            if (want == have) continue;
            if (want > have)
                return (null, null, $"init_from_teacher: '{key}' is {Shape(to.shape)} in the student, larger than the teacher's '{source}' {Shape(from.shape)} along dimension {d}.");
            if (!layout.IsHeadDim(key, d)) index[d] = Range(want);
            else if (HeadIndices(key, d, want, have, studentHeadDim, teacherHeadDim, out var problem) is { } heads) index[d] = heads;
            else return (null, null, problem);
        }
        return (from, index, null);
    }

    /// <summary>Copies the planned (and where narrower, truncated) tensors, under no_grad, one dispose scope each.</summary>
    private static StudentInitReport Execute(List<(Tensor To, Tensor From, long[]?[] Index, string Key)> plan, IReadOnlyList<int> layers, List<string> fresh)
    {
        var copied = new List<string>();
        var truncated = new List<string>();
        using (torch.no_grad())
        {
            foreach (var (to, from, index, key) in plan)
            {
                using var scope = torch.NewDisposeScope();
                var value = from;
                for (int d = 0; d < index.Length; d++)
                    if (index[d] is { } idx)
                        value = value.index_select(d, torch.tensor(idx, device: value.device));
                to.copy_(value);
                (index.Any(i => i is not null) ? truncated : copied).Add(key);
            }
        }
        return new StudentInitReport(layers.ToList(), copied, truncated) { Fresh = fresh };
    }

    /// <summary>The teacher key a student key reads: the same name with the encoder layer index mapped.</summary>
    public static string TeacherKey(string studentKey, IReadOnlyList<int> layers, StudentInitRules rules) =>
        TeacherKey(studentKey, layers, rules.LayerKey);

    /// <summary>The teacher key a student key reads, with the layer list of <paramref name="layerKey"/>.</summary>
    public static string TeacherKey(string studentKey, IReadOnlyList<int> layers, Regex layerKey)
    {
        var m = layerKey.Match(studentKey);
        if (!m.Success) return studentKey;
        var group = m.Groups["i"];
        int i = int.Parse(group.Value, CultureInfo.InvariantCulture);
        if (i >= layers.Count)
            throw new ArgumentException($"init_from_teacher: student key '{studentKey}' is layer {i}, but only {layers.Count} teacher layers were selected.");
        return studentKey[..group.Index] + layers[i].ToString(CultureInfo.InvariantCulture) + studentKey[(group.Index + group.Length)..];
    }

    private static long[] Range(long n)
    {
        var r = new long[n];
        for (long i = 0; i < n; i++) r[i] = i;
        return r;
    }

    /// <summary>Student head j, feature c (c &lt; e′) ← teacher head j, feature c: index j·e + c. The head counts are
    /// this tensor's (want / e′, have / e), so a head-pruned teacher layer maps its j-th remaining head.</summary>
    private static long[]? HeadIndices(string key, int dim, long want, long have, int studentHeadDim, int teacherHeadDim, out string? problem)
    {
        problem = null;
        if (studentHeadDim < 1 || teacherHeadDim < 1 || want % studentHeadDim != 0 || have % teacherHeadDim != 0)
        {
            problem = $"init_from_teacher: dimension {dim} of '{key}' ({want} in the student, {have} in the teacher) is not heads × head_dim.";
            return null;
        }
        long e = teacherHeadDim, eStudent = studentHeadDim, studentHeads = want / eStudent;
        if (studentHeads > have / e)
        {
            problem = $"init_from_teacher: '{key}' has {studentHeads} heads in the student but its teacher layer keeps only {have / e} (pruned_heads).";
            return null;
        }
        var r = new long[want];
        for (long j = 0; j < studentHeads; j++)
            for (long c = 0; c < eStudent; c++) r[j * eStudent + c] = j * e + c;
        return r;
    }

    private static string Shape(long[] s) => $"[{string.Join(", ", s)}]";
}
