using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// Attention-map transfer (TinyBERT, Jiao et al. 2020, eq. 7; the KL form follows MiniLM, Wang et al. 2020): over
/// the mapped layer pairs, the student's attention probabilities A_s (B, heads, T, T) are matched to the teacher's
/// A_t head by head, so both layers must have the same number of heads and the same T.
/// <code>
/// mse: (1/|R|·heads·T) · Σ_(b,i)∈R Σ_h Σ_j (A_s[b,h,i,j] − A_t[b,h,i,j])²
/// kl : (1/|R|·heads)   · Σ_(b,i)∈R Σ_h Σ_j A_t[b,h,i,j] · (log A_t[b,h,i,j] − log max(A_s[b,h,i,j], 1e-12))
/// </code>
/// R is the set of query rows (b, i): all rows, or, when the batch has an <c>attention_mask</c> (B, T), only the rows of
/// real tokens (mask 1); padded query rows are noise both models are free to produce. Padded key columns need no mask:
/// both models give them probability 0 (and 0·log 0 = 0). Student probabilities are clamped at 1e-12 inside the log so
/// that a key the student rules out exactly does not give an infinite loss. The term averages over the layer pairs.
/// Attention maps are read from <see cref="Distill.Models.ModelOutput.Attentions"/> (index 0 = layer 1), so layer 0
/// (the embedding output) cannot be mapped; the teacher maps are detached.
/// </summary>
public sealed class AttentionMapLoss : ILossTerm
{
    /// <summary>Lower clamp of the student probability inside the logarithm of the KL form.</summary>
    public const double LogClamp = 1e-12;

    public AttentionMapLoss(string name, double weight, IReadOnlyList<(int Student, int Teacher)> pairs, AttentionLossKind loss)
    {
        if (pairs.Count == 0) throw new ArgumentException("attention needs at least one layer pair.", nameof(pairs));
        if (pairs.Any(p => p.Student < 1 || p.Teacher < 1))
            throw new ArgumentException("Attention maps start at layer 1 (layer 0 is the embedding output).", nameof(pairs));
        Name = name;
        Weight = weight;
        Pairs = pairs;
        Loss = loss;
    }

    public string Name { get; }
    public double Weight { get; }
    public IReadOnlyList<(int Student, int Teacher)> Pairs { get; }
    public AttentionLossKind Loss { get; }
    public IReadOnlyList<string> StudentTaps => [];
    public TeacherReads TeacherReads => new(attentions: Pairs.Select(p => p.Teacher - 1), readsPaddedTokens: false); // layer t's map is Attentions[t - 1]
    public bool NeedsAttentions => true;
    public nn.Module? Trainable => null;

    /// <summary>
    /// Resolves the mapping (layers 1..N) and checks every pair's attention shapes: unequal head counts or sequence
    /// lengths raise <see cref="LossConfigException"/> at <c>layers</c>; models without attention maps at <c>kind</c>.
    /// </summary>
    public static AttentionMapLoss Create(AttentionSpec spec, LossBuildContext context)
    {
        var pairs = LossHelpers.ResolveLayers(spec.Layers, context.Student.NumHiddenLayers, context.Teacher.NumHiddenLayers, allowEmbedding: false);
        foreach (var (s, t) in pairs)
        {
            var sShape = AttentionShape(context.StudentAttentionShapes, s, "student", context.Student.Family);
            var tShape = AttentionShape(context.TeacherAttentionShapes, t, "teacher", context.Teacher.Family);
            if (sShape.Length != 4 || tShape.Length != 4)
                throw new LossConfigException("layers",
                    $"attention layer pair [{s}, {t}]: attention maps must be (B, heads, T, T), got {LossHelpers.Shape(sShape)} (student) and {LossHelpers.Shape(tShape)} (teacher).");
            if (sShape[1] != tShape[1])
                throw new LossConfigException("layers",
                    $"attention layer pair [{s}, {t}]: the student layer has {sShape[1]} attention heads and the teacher layer {tShape[1]}. " +
                    "Attention maps are compared head by head, so the head counts must match; choose a student with as many heads as the teacher, " +
                    "map only layers whose head counts agree (pruned_heads leaves a layer fewer heads), or use hidden_mse / cosine instead.");
            if (sShape[2] != tShape[2] || sShape[3] != tShape[3])
                throw new LossConfigException("layers",
                    $"attention layer pair [{s}, {t}]: the student attends over {sShape[2]}×{sShape[3]} positions and the teacher over " +
                    $"{tShape[2]}×{tShape[3]}; the sequence lengths must match (same tokenizer / patch size).");
        }
        return new AttentionMapLoss(spec.DisplayName, spec.Weight, pairs, spec.Loss);
    }

    public Tensor Compute(DistillContext context)
    {
        var (s0, _) = Pairs[0];
        var first = LossHelpers.Layer(context.Student.Attentions, s0 - 1, "student", "attention map (index = layer − 1)", Name);
        var mask = LossHelpers.TokenMask(context.Batch, first.shape[0], first.shape[2], Name, first.device);
        return Compute(context.Student.Attentions, context.Teacher.Attentions, Pairs, Loss, mask, Name);
    }

    /// <summary>Mean over the layer pairs of <see cref="PairLoss"/>; <paramref name="studentAttentions"/>[l − 1] is layer l.</summary>
    public static Tensor Compute(IReadOnlyList<Tensor> studentAttentions, IReadOnlyList<Tensor> teacherAttentions,
        IReadOnlyList<(int Student, int Teacher)> pairs, AttentionLossKind loss, Tensor? mask, string term = "attention")
    {
        if (pairs.Count == 0) throw new ArgumentException("At least one layer pair is needed.", nameof(pairs));
        Tensor? sum = null;
        foreach (var (s, t) in pairs)
        {
            if (s < 1 || t < 1) throw new ArgumentException($"Layer pair [{s}, {t}]: attention maps start at layer 1.", nameof(pairs));
            var a = LossHelpers.Layer(studentAttentions, s - 1, "student", "attention map (index = layer − 1)", term);
            var b = LossHelpers.Layer(teacherAttentions, t - 1, "teacher", "attention map (index = layer − 1)", term);
            LossHelpers.SameShape(a, b, term, $"the attention map of layer pair [{s}, {t}]");
            var value = PairLoss(a, b, loss, mask);
            sum = sum is null ? value : sum + value;
        }
        return sum! / pairs.Count;
    }

    /// <summary>
    /// The loss between one student map and one teacher map (B, heads, T, T), with an optional (B, T) query-row mask
    /// (1 = real token, 0 = padding); see the class remarks for the formulas.
    /// </summary>
    public static Tensor PairLoss(Tensor studentAttention, Tensor teacherAttention, AttentionLossKind loss, Tensor? mask)
    {
        if (studentAttention.dim() != 4 || studentAttention.shape[2] != studentAttention.shape[3])
            throw new ArgumentException($"Attention maps must be (B, heads, T, T), got {LossHelpers.Shape(studentAttention)}.", nameof(studentAttention));
        if (!studentAttention.shape.SequenceEqual(teacherAttention.shape))
            throw new ArgumentException(
                $"Student attention {LossHelpers.Shape(studentAttention)} and teacher attention {LossHelpers.Shape(teacherAttention)} differ in shape.", nameof(teacherAttention));
        long batch = studentAttention.shape[0], heads = studentAttention.shape[1], tokens = studentAttention.shape[2];
        var s = LossHelpers.Float(studentAttention);
        var t = LossHelpers.Float(teacherAttention).detach().to_type(s.dtype);

        Tensor perRow; // (B, heads, T): the per-query-row quantity summed over keys j
        double perRowCount; // number of averaged entries per (row, head)
        if (loss == AttentionLossKind.Mse)
        {
            perRow = (s - t).pow(2).sum(-1);
            perRowCount = tokens;
        }
        else
        {
            perRow = (torch.xlogy(t, t) - t * s.clamp_min(LogClamp).log()).sum(-1);
            perRowCount = 1;
        }

        if (mask is null) return perRow.sum() / (batch * heads * tokens * perRowCount);
        if (mask.dim() != 2 || mask.shape[0] != batch || mask.shape[1] != tokens)
            throw new ArgumentException($"The attention mask must be (B, T) = ({batch}, {tokens}), got {LossHelpers.Shape(mask)}.", nameof(mask));
        var rows = mask.to(s.device).to_type(s.dtype).unsqueeze(1); // (B, 1, T), broadcast over heads
        var valid = rows.sum().clamp_min(1); // number of real query rows |R|
        return (perRow * rows).sum() / (valid * (heads * perRowCount));
    }

    private static long[] AttentionShape(IReadOnlyList<long[]> shapes, int layer, string who, string family)
    {
        if (shapes.Count == 0)
            throw new LossConfigException("kind",
                $"the {who} (family '{family}') produces no attention maps, so the attention loss cannot be used with it.");
        if (layer - 1 >= shapes.Count)
            throw new LossConfigException("layers",
                $"{who} layer {layer} has no attention map: the {who} (family '{family}') has attention maps for layers 1..{shapes.Count}.");
        return shapes[layer - 1];
    }
}
