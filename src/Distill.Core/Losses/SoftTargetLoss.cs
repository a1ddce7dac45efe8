using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Distill.Losses;

/// <summary>
/// Soft-target knowledge distillation (Hinton, Vinyals, Dean 2015, "Distilling the Knowledge in a Neural Network"):
/// the student matches the teacher's temperature-softened class distribution, mixed with ordinary cross-entropy on the
/// hard labels.
/// <code>
/// kd    = T² · KL(softmax(z_t/T) ‖ softmax(z_s/T))      batchmean: summed over classes and rows, divided by rows B
/// ce    = CrossEntropy(z_s, y)                            mean over the labelled rows (labels -100 are ignored; 0 when none is labelled)
/// total = alpha · kd + (1 − alpha) · ce
/// </code>
/// The T² factor keeps the soft-target gradients, which scale as 1/T², comparable in size to the cross-entropy's when
/// T changes (section 2 of the paper). The teacher logits are a fixed target: they are detached.
/// </summary>
public sealed class SoftTargetLoss : ILossTerm
{
    public SoftTargetLoss(string name, double weight, double temperature, double alpha)
    {
        LossHelpers.CheckTemperatureAndAlpha(temperature, alpha);
        Name = name;
        Weight = weight;
        Temperature = temperature;
        Alpha = alpha;
    }

    public string Name { get; }
    public double Weight { get; }
    public double Temperature { get; }
    public double Alpha { get; }
    public IReadOnlyList<string> StudentTaps => [];
    public TeacherReads TeacherReads => TeacherReads.LogitsOnly;
    public bool NeedsAttentions => false;
    public nn.Module? Trainable => null;

    /// <summary>Builds the term from its spec; teacher and student must predict the same number of classes.</summary>
    public static SoftTargetLoss Create(SoftTargetSpec spec, LossBuildContext context)
    {
        if (context.Student.NumLabels != context.Teacher.NumLabels)
            throw new LossConfigException("kind",
                $"soft_target compares class distributions, but the student predicts {context.Student.NumLabels} classes and the teacher " +
                $"{context.Teacher.NumLabels}. Give both models the same num_labels, or use feature losses (hint, hidden_mse) instead.");
        return new SoftTargetLoss(spec.DisplayName, spec.Weight, spec.Temperature, spec.Alpha);
    }

    public Tensor Compute(DistillContext context)
    {
        var labels = Alpha < 1 ? context.Batch.Labels ?? throw new InvalidOperationException(
            $"Loss term '{Name}' has alpha {Alpha}, so (1 − alpha) of it is cross-entropy on the labels, but the batch has no labels. " +
            "Set alpha: 1 for label-free distillation, or use a dataset with labels.") : null;
        return Compute(context.Student.Logits, context.Teacher.Logits, labels, Temperature, Alpha).Total;
    }

    /// <summary>
    /// The loss on raw logits (B, C) and int64 labels (B). <paramref name="labels"/> may be null only when alpha = 1;
    /// then <see cref="SoftTargetParts.Ce"/> is null. Low-precision logits are promoted to float32 first.
    /// </summary>
    public static SoftTargetParts Compute(Tensor studentLogits, Tensor teacherLogits, Tensor? labels, double temperature, double alpha)
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be positive.");
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in [0, 1].");
        if (studentLogits.dim() != 2)
            throw new ArgumentException(
                $"soft_target compares per-example class logits (B, C), but the student logits have shape {LossHelpers.Shape(studentLogits)}. " +
                "For per-frame CTC logits (B, T, V) use ctc_soft_target.", nameof(studentLogits));
        if (!studentLogits.shape.SequenceEqual(teacherLogits.shape))
            throw new ArgumentException(
                $"soft_target: student logits {LossHelpers.Shape(studentLogits)} and teacher logits {LossHelpers.Shape(teacherLogits)} differ in shape; " +
                "both models must see the same batch and predict the same classes.", nameof(teacherLogits));

        var s = LossHelpers.Float(studentLogits);
        var t = LossHelpers.Float(teacherLogits).detach().to_type(s.dtype);
        long rows = s.shape[0];

        var logPs = F.log_softmax(s / temperature, 1);  // (B, C) student log-probabilities at temperature T
        var logPt = F.log_softmax(t / temperature, 1);  // (B, C) teacher log-probabilities at temperature T
        // kl_div(input, target, log_target: true) = exp(target)·(target − input) elementwise; summed then / rows = batchmean.
        var kd = F.kl_div(logPs, logPt, log_target: true, reduction: nn.Reduction.Sum) / rows * (temperature * temperature);

        Tensor? ce = null;
        if (labels is not null)
        {
            if (labels.dim() != 1 || labels.shape[0] != rows)
                throw new ArgumentException(
                    $"soft_target: labels must be class ids of shape ({rows}), got {LossHelpers.Shape(labels)}.", nameof(labels));
            var y = labels.to(s.device);
            // Rows labelled -100 (an unlabelled transfer set) are skipped; a batch of only such rows has no cross-entropy
            // (0, where the mean over no rows would be NaN).
            long labelled = y.ne(-100).sum().item<long>();
            ce = labelled == rows ? F.cross_entropy(s, y) : F.cross_entropy(s, y, reduction: nn.Reduction.Sum) / Math.Max(labelled, 1);
        }
        else if (alpha < 1)
        {
            throw new ArgumentException($"soft_target with alpha {alpha} needs labels for its cross-entropy part.", nameof(labels));
        }

        var total = ce is null ? kd * alpha : kd * alpha + ce * (1 - alpha);
        return new SoftTargetParts(kd, ce, total);
    }
}
