using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// The learned regressor that maps a student feature into the teacher's feature space (FitNets' "regressor", TinyBERT's
/// W_h). Chosen from the feature shapes (batch dimension ignored):
/// <list type="bullet">
/// <item>(B, D) or (B, T, D): <c>Linear(D_s → D_t)</c> on the last dimension (T must match);</item>
/// <item>(B, C, H, W): a 1×1 <c>Conv2d(C_s → C_t)</c> (H and W must match: the projector mixes channels only).</item>
/// </list>
/// When the widths are equal the projector starts as the identity (weight I, bias 0), so training begins from the plain
/// feature MSE and the regressor only learns what helps; otherwise it uses PyTorch's default initialisation.
/// State-dict names: <c>proj.weight</c>, <c>proj.bias</c>. It belongs to the loss term, never to the student.
/// </summary>
public sealed class FeatureProjector : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> proj;

    private FeatureProjector(bool convolution, long inFeatures, long outFeatures) : base(nameof(FeatureProjector))
    {
        IsConvolution = convolution;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        proj = convolution ? ParamInit.Redraw(nn.Conv2d(inFeatures, outFeatures, 1)) : ParamInit.Redraw(nn.Linear(inFeatures, outFeatures));
        if (inFeatures == outFeatures)
        {
            using var _ = no_grad();
            var weight = ((nn.Module)proj).get_parameter("weight")!;
            var eye = torch.eye(inFeatures).reshape(weight.shape); // (out, in) or (out, in, 1, 1)
            weight.copy_(eye);
            ((nn.Module)proj).get_parameter("bias")!.zero_();
        }
        RegisterComponents();
    }

    /// <summary>True for the 1×1 convolution (image features), false for the Linear.</summary>
    public bool IsConvolution { get; }

    /// <summary>Student width: D_s or C_s.</summary>
    public long InFeatures { get; }

    /// <summary>Teacher width: D_t or C_t.</summary>
    public long OutFeatures { get; }

    /// <summary>
    /// The projector for a student feature of <paramref name="studentShape"/> and a teacher feature of
    /// <paramref name="teacherShape"/>; shapes that cannot be related by such a projector raise
    /// <see cref="LossConfigException"/> at <paramref name="key"/>, describing both shapes and why.
    /// </summary>
    /// <param name="what">What the shapes are, for messages (for example "module 'blocks.1'").</param>
    public static FeatureProjector For(long[] studentShape, long[] teacherShape, string key, string what)
    {
        var (conv, din, dout) = Plan(studentShape, teacherShape, key, what);
        return new FeatureProjector(conv, din, dout);
    }

    /// <summary>Checks that the two shapes can be compared after a projector; returns (convolution, D_s, D_t).</summary>
    internal static (bool Convolution, long InFeatures, long OutFeatures) Plan(long[] studentShape, long[] teacherShape, string key, string what)
    {
        string s = LossHelpers.Shape(studentShape), t = LossHelpers.Shape(teacherShape);
        if (studentShape.Length != teacherShape.Length)
            throw new LossConfigException(key,
                $"{what}: the student feature has shape {s} (rank {studentShape.Length}) but the teacher feature {t} (rank {teacherShape.Length}). " +
                "A projector maps (B, D)→(B, D'), (B, T, D)→(B, T, D') or (B, C, H, W)→(B, C', H, W); pick features of the same kind.");
        switch (studentShape.Length)
        {
            case 2:
                return (false, studentShape[1], teacherShape[1]);
            case 3:
                if (studentShape[1] != teacherShape[1])
                    throw new LossConfigException(key,
                        $"{what}: the student feature {s} has {studentShape[1]} tokens but the teacher feature {t} has {teacherShape[1]}. " +
                        "The Linear projector maps the width D only; the sequence lengths must match (same tokenizer / patch size).");
                return (false, studentShape[2], teacherShape[2]);
            case 4:
                if (studentShape[2] != teacherShape[2] || studentShape[3] != teacherShape[3])
                    throw new LossConfigException(key,
                        $"{what}: the student feature {s} is {studentShape[2]}×{studentShape[3]} but the teacher feature {t} is " +
                        $"{teacherShape[2]}×{teacherShape[3]}. The 1×1 convolution projector maps channels only, so the spatial sizes " +
                        "must match; pick layers at the same resolution (same number of poolings).");
                return (true, studentShape[1], teacherShape[1]);
            default:
                throw new LossConfigException(key,
                    $"{what}: features of shape {s} (student) and {t} (teacher) are not supported; expected (B, D), (B, T, D) or (B, C, H, W).");
        }
    }

    public override Tensor forward(Tensor input)
    {
        bool ok = IsConvolution ? input.dim() == 4 && input.shape[1] == InFeatures
                                : input.dim() is 2 or 3 && input.shape[^1] == InFeatures;
        if (!ok)
            throw new ArgumentException(
                $"Projector built for {(IsConvolution ? $"(B, {InFeatures}, H, W)" : $"(…, {InFeatures})")} features got shape {LossHelpers.Shape(input)}.");
        return proj.call(input);
    }
}
