using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Distill.Losses;

/// <summary>
/// DistilBERT's cosine-embedding loss (Sanh et al. 2019, "DistilBERT, a distilled version of BERT: smaller, faster,
/// cheaper and lighter"): aligns the directions of student and teacher hidden states,
/// <code>
/// loss = (1/|pairs|) · Σ_(m, n) (1/|R|) · Σ_(b,i)∈R (1 − cos(h_s[m][b,i,:], h_t[n][b,i,:]))
/// </code>
/// where R is every token position of (B, T, D) states, or only the real tokens (mask 1) when the batch has an
/// <c>attention_mask</c> (B, T) — the mean is over tokens of the whole batch, not per sentence. (B, D) states have one
/// position per row; for (B, C, H, W) states the cosine is taken over the channels at each pixel. cos uses eps 1e-8
/// (PyTorch's default). The widths must match: no projector is learned (DistilBERT's student shares the teacher's
/// width). Hidden states come from <see cref="Distill.Models.ModelOutput.HiddenStates"/> (0 = embedding output).
/// The teacher states are detached.
/// </summary>
public sealed class CosineEmbeddingLoss : ILossTerm
{
    public CosineEmbeddingLoss(string name, double weight, IReadOnlyList<(int Student, int Teacher)> pairs)
    {
        if (pairs.Count == 0) throw new ArgumentException("cosine needs at least one layer pair.", nameof(pairs));
        Name = name;
        Weight = weight;
        Pairs = pairs;
    }

    public string Name { get; }
    public double Weight { get; }
    public IReadOnlyList<(int Student, int Teacher)> Pairs { get; }
    public IReadOnlyList<string> StudentTaps => [];
    public TeacherReads TeacherReads => new(hiddenStates: Pairs.Select(p => p.Teacher), readsPaddedTokens: false);
    public bool NeedsAttentions => false;
    public nn.Module? Trainable => null;

    /// <summary>Resolves the mapping; pairs whose hidden-state shapes differ raise <see cref="LossConfigException"/> at <c>layers</c>.</summary>
    public static CosineEmbeddingLoss Create(CosineSpec spec, LossBuildContext context)
    {
        var pairs = LossHelpers.ResolveLayers(spec.Layers, context.Student.NumHiddenLayers, context.Teacher.NumHiddenLayers, allowEmbedding: true);
        foreach (var (s, t) in pairs)
        {
            var sShape = HiddenStateMseLoss.HiddenShape(context.StudentHiddenShapes, s, "student", context.Student.Family);
            var tShape = HiddenStateMseLoss.HiddenShape(context.TeacherHiddenShapes, t, "teacher", context.Teacher.Family);
            if (sShape.Length is < 2 or > 4 || !sShape.AsSpan(1).SequenceEqual(tShape.AsSpan(1)) || sShape.Length != tShape.Length)
                throw new LossConfigException("layers",
                    $"cosine layer pair [{s}, {t}]: the student hidden state has shape {LossHelpers.Shape(sShape)} and the teacher's " +
                    $"{LossHelpers.Shape(tShape)}. The cosine loss compares the vectors directly, so the shapes (widths included) must match; " +
                    "for different widths use hidden_mse, which learns a projection.");
        }
        return new CosineEmbeddingLoss(spec.DisplayName, spec.Weight, pairs);
    }

    public Tensor Compute(DistillContext context)
    {
        var (s0, _) = Pairs[0];
        var first = LossHelpers.Layer(context.Student.HiddenStates, s0, "student", "hidden state", Name);
        var mask = first.dim() == 3 ? LossHelpers.TokenMask(context.Batch, first.shape[0], first.shape[1], Name, first.device) : null;
        return Compute(context.Student.HiddenStates, context.Teacher.HiddenStates, Pairs, mask, Name);
    }

    /// <summary>Mean over the layer pairs of <see cref="PairLoss"/>.</summary>
    public static Tensor Compute(IReadOnlyList<Tensor> studentHidden, IReadOnlyList<Tensor> teacherHidden,
        IReadOnlyList<(int Student, int Teacher)> pairs, Tensor? mask, string term = "cosine")
    {
        if (pairs.Count == 0) throw new ArgumentException("At least one layer pair is needed.", nameof(pairs));
        Tensor? sum = null;
        foreach (var (s, t) in pairs)
        {
            var hs = LossHelpers.Layer(studentHidden, s, "student", "hidden state", term);
            var ht = LossHelpers.Layer(teacherHidden, t, "teacher", "hidden state", term);
            LossHelpers.SameShape(hs, ht, term, $"the hidden state of layer pair [{s}, {t}]");
            var value = PairLoss(hs, ht, mask);
            sum = sum is null ? value : sum + value;
        }
        return sum! / pairs.Count;
    }

    /// <summary>Mean of 1 − cos over positions; <paramref name="mask"/> (B, T) applies to (B, T, D) states only.</summary>
    public static Tensor PairLoss(Tensor student, Tensor teacher, Tensor? mask)
    {
        if (student.dim() is < 2 or > 4)
            throw new ArgumentException($"cosine: hidden states must be (B, D), (B, T, D) or (B, C, H, W), got {LossHelpers.Shape(student)}.", nameof(student));
        if (!student.shape.SequenceEqual(teacher.shape))
            throw new ArgumentException($"cosine: student {LossHelpers.Shape(student)} and teacher {LossHelpers.Shape(teacher)} differ in shape.", nameof(teacher));
        var s = LossHelpers.Float(student);
        var t = LossHelpers.Float(teacher).detach().to_type(s.dtype);
        long featureDim = s.dim() == 4 ? 1 : -1;
        var distance = 1 - F.cosine_similarity(s, t, featureDim, 1e-8); // (B), (B, T) or (B, H, W)
        if (mask is null) return distance.mean();
        if (s.dim() != 3 || mask.dim() != 2 || mask.shape[0] != s.shape[0] || mask.shape[1] != s.shape[1])
            throw new ArgumentException($"cosine: a (B, T) mask applies to (B, T, D) states; got mask {LossHelpers.Shape(mask)} for states {LossHelpers.Shape(s)}.", nameof(mask));
        var m = mask.to(s.device).to_type(s.dtype); // (B, T)
        return (distance * m).sum() / m.sum().clamp_min(1);
    }
}
