using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Distill.Losses;

/// <summary>
/// TinyBERT hidden-state loss (Jiao et al. 2020, "TinyBERT: Distilling BERT for Natural Language Understanding",
/// eq. 8): over the mapped layer pairs (m, g(m)),
/// <code>
/// loss = (1/|pairs|) · Σ_(m, n) MSE(W · h_s[m], h_t[n])      MSE = mean over every element
/// </code>
/// with one learned W shared by all pairs of the term (as TinyBERT's W_h), created only when the student and teacher
/// widths differ (otherwise W is the identity and nothing is learned). Hidden states are read from
/// <see cref="Distill.Models.ModelOutput.HiddenStates"/> (0 = embedding output, then layers 1..N); W is a Linear for
/// (B, T, D) / (B, D) states and a 1×1 convolution for (B, C, H, W) states (see <see cref="FeatureProjector"/>).
/// TinyBERT sums over layers; this term averages, so its scale does not depend on how many layers are mapped
/// (a weight equal to the number of pairs gives the sum). Padding tokens are not masked, as in TinyBERT, unless
/// <c>mask_padding</c> is set: then, for (B, T, D) states and a batch <c>attention_mask</c> m (B, T),
/// <code>
/// MSE = Σ_(b,t) m_bt · Σ_d (W·h_s − h_t)²_btd / (D · Σ_(b,t) m_bt)
/// </code>
/// The teacher states are detached.
/// </summary>
public sealed class HiddenStateMseLoss : ILossTerm
{
    public HiddenStateMseLoss(string name, double weight, IReadOnlyList<(int Student, int Teacher)> pairs, FeatureProjector? projector,
        bool maskPadding = false)
    {
        MaskPadding = maskPadding;
        if (pairs.Count == 0) throw new ArgumentException("hidden_mse needs at least one layer pair.", nameof(pairs));
        Name = name;
        Weight = weight;
        Pairs = pairs;
        Projector = projector;
    }

    public string Name { get; }
    public double Weight { get; }

    /// <summary>The resolved (student, teacher) layer numbers.</summary>
    public IReadOnlyList<(int Student, int Teacher)> Pairs { get; }

    /// <summary>Whether padded tokens are left out of the mean.</summary>
    public bool MaskPadding { get; }

    /// <summary>The shared W, or null when the widths are equal.</summary>
    public FeatureProjector? Projector { get; }

    public IReadOnlyList<string> StudentTaps => [];
    public TeacherReads TeacherReads => new(hiddenStates: Pairs.Select(p => p.Teacher), readsPaddedTokens: !MaskPadding);
    public bool NeedsAttentions => false;
    public nn.Module? Trainable => Projector;

    /// <summary>
    /// Resolves the layer mapping against both models and sizes W from the hidden-state shapes. A mapping that does not
    /// fit, or pairs whose widths differ from one another (one W cannot serve them), raise
    /// <see cref="LossConfigException"/> at <c>layers</c>.
    /// </summary>
    public static HiddenStateMseLoss Create(HiddenMseSpec spec, LossBuildContext context)
    {
        var pairs = LossHelpers.ResolveLayers(spec.Layers, context.Student.NumHiddenLayers, context.Teacher.NumHiddenLayers, allowEmbedding: true);
        (bool Convolution, long In, long Out)? plan = null;
        (int, int) first = default;
        foreach (var (s, t) in pairs)
        {
            var sShape = HiddenShape(context.StudentHiddenShapes, s, "student", context.Student.Family);
            var tShape = HiddenShape(context.TeacherHiddenShapes, t, "teacher", context.Teacher.Family);
            var p = FeatureProjector.Plan(sShape, tShape, "layers", $"hidden_mse layer pair [{s}, {t}]");
            if (plan is null) { plan = p; first = (s, t); }
            else if (plan.Value != p)
                throw new LossConfigException("layers",
                    $"hidden_mse shares one projector W over all its layer pairs (TinyBERT's W_h), but pair [{first.Item1}, {first.Item2}] maps width " +
                    $"{plan.Value.In}→{plan.Value.Out} and pair [{s}, {t}] maps {p.InFeatures}→{p.OutFeatures}. Map layers of equal widths in one term, " +
                    "or write one term (or one hint term) per layer.");
        }
        var (_, din, dout) = plan!.Value;
        FeatureProjector? projector = null;
        if (din != dout)
        {
            var (s0, t0) = pairs[0];
            projector = FeatureProjector.For(
                HiddenShape(context.StudentHiddenShapes, s0, "student", context.Student.Family),
                HiddenShape(context.TeacherHiddenShapes, t0, "teacher", context.Teacher.Family),
                "layers", $"hidden_mse layer pair [{s0}, {t0}]");
        }
        return new HiddenStateMseLoss(spec.DisplayName, spec.Weight, pairs, projector, spec.MaskPadding);
    }

    public Tensor Compute(DistillContext context)
    {
        Tensor? mask = null;
        if (MaskPadding)
        {
            var first = LossHelpers.Layer(context.Student.HiddenStates, Pairs[0].Student, "student", "hidden state", Name);
            if (first.dim() == 3) mask = LossHelpers.TokenMask(context.Batch, first.shape[0], first.shape[1], Name, first.device);
        }
        return Compute(context.Student.HiddenStates, context.Teacher.HiddenStates, Pairs, Projector, Name, mask);
    }

    /// <summary>
    /// Mean over <paramref name="pairs"/> of MSE(proj(h_s[m]), h_t[n]); <paramref name="projector"/> null = identity;
    /// <paramref name="mask"/> (B, T) of 1 (real token) and 0 (padding) leaves padded positions of (B, T, D) states out.
    /// </summary>
    public static Tensor Compute(IReadOnlyList<Tensor> studentHidden, IReadOnlyList<Tensor> teacherHidden,
        IReadOnlyList<(int Student, int Teacher)> pairs, nn.Module<Tensor, Tensor>? projector, string term = "hidden_mse", Tensor? mask = null)
    {
        if (pairs.Count == 0) throw new ArgumentException("At least one layer pair is needed.", nameof(pairs));
        Tensor? sum = null;
        foreach (var (s, t) in pairs)
        {
            var hs = LossHelpers.Layer(studentHidden, s, "student", "hidden state", term);
            var ht = LossHelpers.Layer(teacherHidden, t, "teacher", "hidden state", term);
            var mapped = LossHelpers.Float(projector is null ? hs : projector.call(hs));
            LossHelpers.SameShape(mapped, ht, term, $"layer pair [{s}, {t}] (after the projector)");
            var target = LossHelpers.Float(ht).detach().to_type(mapped.dtype);
            var mse = mask is null ? F.mse_loss(mapped, target) : MaskedMse(mapped, target, mask, term);
            sum = sum is null ? mse : sum + mse;
        }
        return sum! / pairs.Count;
    }

    private static Tensor MaskedMse(Tensor student, Tensor teacher, Tensor mask, string term)
    {
        if (student.dim() != 3 || mask.shape[0] != student.shape[0] || mask.shape[1] != student.shape[1])
            throw new InvalidOperationException(
                $"Loss term '{term}': mask_padding applies to (B, T, D) token states with a (B, T) attention_mask; got states " +
                $"{LossHelpers.Shape(student)} and mask {LossHelpers.Shape(mask)}.");
        var m = mask.to(student.device).to_type(student.dtype).unsqueeze(-1);        // (B, T, 1)
        var squared = (student - teacher).pow(2) * m;                                 // (B, T, D), padded rows zero
        return squared.sum() / (m.sum() * student.shape[2]).clamp_min(1);
    }

    internal static long[] HiddenShape(IReadOnlyList<long[]> shapes, int layer, string who, string family)
    {
        if (shapes.Count == 0)
            throw new LossConfigException("kind", $"the {who} (family '{family}') exposes no hidden states, so layer-wise losses cannot be used with it.");
        if (layer >= shapes.Count)
            throw new LossConfigException("layers",
                $"{who} layer {layer} does not exist: the {who} (family '{family}') has hidden states for layers 0..{shapes.Count - 1}.");
        return shapes[layer];
    }
}
