using System.Globalization;
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
        var copied = new List<string>();
        var truncated = new List<string>();
        foreach (var (key, to) in student.state_dict())
        {
            string source = TeacherKey(key, layers, rules);
            if (!teacherState.TryGetValue(source, out var from))
                throw new ArgumentException($"init_from_teacher: the teacher has no tensor '{source}' for the student's '{key}'.");
            if (from.dim() != to.dim())
                throw new ArgumentException($"init_from_teacher: '{key}' has {to.dim()} dimensions in the student but '{source}' has {from.dim()} in the teacher.");
            var index = new long[]?[to.dim()];
            for (int d = 0; d < to.dim(); d++)
            {
                long want = to.shape[d], have = from.shape[d];
                if (want == have) continue;
                if (want > have)
                    throw new ArgumentException($"init_from_teacher: '{key}' is {Shape(to.shape)} in the student, larger than the teacher's '{source}' {Shape(from.shape)} along dimension {d}.");
                index[d] = rules.IsHeadDim(key, d) ? HeadIndices(key, d, want, have, s.HeadDim, t.HeadDim) : Range(want);
            }
            plan.Add((to, from, index, key));
            (index.Any(i => i is not null) ? truncated : copied).Add(key);
        }

        using (torch.no_grad())
        {
            foreach (var (to, from, index, _) in plan)
            {
                using var scope = torch.NewDisposeScope();
                var value = from;
                for (int d = 0; d < index.Length; d++)
                    if (index[d] is { } idx)
                        value = value.index_select(d, torch.tensor(idx, device: value.device));
                to.copy_(value);
            }
        }
        return new StudentInitReport(layers.ToList(), copied, truncated);
    }

    /// <summary>The teacher key a student key reads: the same name with the encoder layer index mapped.</summary>
    public static string TeacherKey(string studentKey, IReadOnlyList<int> layers, StudentInitRules rules)
    {
        var m = rules.LayerKey.Match(studentKey);
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
    private static long[] HeadIndices(string key, int dim, long want, long have, int studentHeadDim, int teacherHeadDim)
    {
        if (studentHeadDim < 1 || teacherHeadDim < 1 || want % studentHeadDim != 0 || have % teacherHeadDim != 0)
            throw new ArgumentException($"init_from_teacher: dimension {dim} of '{key}' ({want} in the student, {have} in the teacher) is not heads × head_dim.");
        long e = teacherHeadDim, eStudent = studentHeadDim, studentHeads = want / eStudent;
        if (studentHeads > have / e)
            throw new ArgumentException($"init_from_teacher: '{key}' has {studentHeads} heads in the student but its teacher layer keeps only {have / e} (pruned_heads).");
        var r = new long[want];
        for (long j = 0; j < studentHeads; j++)
            for (long c = 0; c < eStudent; c++) r[j * eStudent + c] = j * e + c;
        return r;
    }

    private static string Shape(long[] s) => $"[{string.Join(", ", s)}]";
}
