using Distill.Models;
using Distill.Models.Wav2Vec2;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Distill.Losses;

/// <summary>
/// Frame-level soft targets for CTC models: Hinton, Vinyals, Dean 2015 ("Distilling the Knowledge in a Neural
/// Network") applied to every audio frame of the per-frame token distributions — the frame-level KD of CTC acoustic
/// models (e.g. Takashima et al. 2018, "An investigation of a knowledge distillation method for CTC acoustic models") —
/// mixed with the CTC loss on the transcripts. With z_s, z_t the (B, T, V) logits and m (B, T) the real-frame mask
/// (the wav2vec2 feature-encoder output lengths of each clip's attention_mask; all frames without one):
/// <code>
/// kd    = T² · Σ_{b,t} m_bt · KL(softmax(z_t[b,t]/T) ‖ softmax(z_s[b,t]/T)) / Σ_{b,t} m_bt     mean over real frames
/// ctc   = the student's CTC loss (Wav2Vec2ForCTC: blank = pad_token_id, ctc_loss_reduction, ctc_zero_infinity)
/// total = alpha · kd + (1 − alpha) · ctc
/// </code>
/// Padded frames (beyond a clip's frame count) take no part: their distributions describe padding, not speech. T²
/// keeps the soft-target gradients comparable when T changes (section 2 of the paper). The teacher logits are detached.
/// Teacher and student must share the frame rate (the same conv strides), so their frames align one to one.
/// DistilHuBERT-style layer prediction (Chang et al. 2022) is the <c>hidden_mse</c> term with a layer mapping beside this one.
/// </summary>
public sealed class CtcSoftTargetLoss : ILossTerm
{
    public CtcSoftTargetLoss(string name, double weight, double temperature, double alpha)
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

    /// <summary>Only the teacher's logits: the frame mask comes from the student's output (the same frames).</summary>
    public TeacherReads TeacherReads => TeacherReads.LogitsOnly;
    public bool NeedsAttentions => false;
    public nn.Module? Trainable => null;

    /// <summary>Builds the term; both models must predict the same vocabulary.</summary>
    public static CtcSoftTargetLoss Create(CtcSoftTargetSpec spec, LossBuildContext context)
    {
        if (context.Student.NumLabels != context.Teacher.NumLabels)
            throw new LossConfigException("kind",
                $"ctc_soft_target compares per-frame token distributions, but the student's vocabulary has {context.Student.NumLabels} tokens and the teacher's " +
                $"{context.Teacher.NumLabels}. Give both models the vocab_size of the data's vocabulary.");
        return new CtcSoftTargetLoss(spec.DisplayName, spec.Weight, spec.Temperature, spec.Alpha);
    }

    public Tensor Compute(DistillContext context)
    {
        var frameMask = context.Student is Wav2Vec2HeadOutput head ? head.Base.FeatureAttentionMask : null;
        var kd = FrameKd(context.Student.Logits, context.Teacher.Logits, frameMask, Temperature);
        if (Alpha >= 1) return kd * Alpha;
        var ctc = context.Student.Loss ?? throw new InvalidOperationException(
            $"Loss term '{Name}' has alpha {Alpha}, so (1 − alpha) of it is the CTC loss on the transcripts, but the student computed none: " +
            "the batch needs transcript labels and the student a CTC head (architectures: [Wav2Vec2ForCTC]). Set alpha: 1 for label-free distillation.");
        return kd * Alpha + ctc * (1 - Alpha);
    }

    /// <summary>
    /// T² · the mean over real frames of KL(teacher ‖ student) at temperature T, for logits (B, T, V) and a frame mask
    /// (B, T) (bool or 0/1; null = every frame). Low-precision logits are promoted to float32.
    /// </summary>
    public static Tensor FrameKd(Tensor studentLogits, Tensor teacherLogits, Tensor? frameMask, double temperature)
    {
        if (studentLogits.dim() != 3)
            throw new ArgumentException(
                $"ctc_soft_target compares per-frame token logits (B, T, V), but the student logits have shape {LossHelpers.Shape(studentLogits)}; " +
                "for per-example class logits use soft_target.", nameof(studentLogits));
        if (!studentLogits.shape.SequenceEqual(teacherLogits.shape))
            throw new ArgumentException(
                $"ctc_soft_target: student logits {LossHelpers.Shape(studentLogits)} and teacher logits {LossHelpers.Shape(teacherLogits)} differ in shape; " +
                "both models must have the same frame rate (conv_kernel and conv_stride) and vocab_size.", nameof(teacherLogits));
        var s = LossHelpers.Float(studentLogits);
        var t = LossHelpers.Float(teacherLogits).detach().to_type(s.dtype);
        var logPs = F.log_softmax(s / temperature, -1);                    // (B, T, V) student log-probabilities at T
        var logPt = F.log_softmax(t / temperature, -1);                    // (B, T, V) teacher log-probabilities at T
        var perFrame = (logPt.exp() * (logPt - logPs)).sum(-1);            // (B, T) KL(teacher ‖ student) of each frame
        Tensor mean;
        if (frameMask is null) mean = perFrame.mean();
        else
        {
            var m = frameMask.to(s.device).to_type(s.dtype);               // (B, T) 1 = real frame
            mean = (perFrame * m).sum() / m.sum().clamp_min(1);
        }
        return mean * (temperature * temperature);
    }
}
