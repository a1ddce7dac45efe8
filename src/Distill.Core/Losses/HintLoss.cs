using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Distill.Losses;

/// <summary>
/// FitNets hint loss (Romero et al. 2015, "FitNets: Hints for Thin Deep Nets"): the output of a student module (the
/// guided layer) is regressed onto the output of a teacher module (the hint) through a learned projector:
/// <code>
/// loss = mean( (proj(f_s) − f_t)² )      over every element of the teacher feature
/// </code>
/// The projector (<see cref="FeatureProjector"/>: Linear on the width for (B, D)/(B, T, D), 1×1 convolution for
/// (B, C, H, W)) is always learned, as FitNets' regressor is; it starts at the identity when the widths are already
/// equal. It is exposed as <see cref="Trainable"/>: trained with the student, saved in checkpoints, never part of the
/// student. The teacher feature is a fixed target (detached).
/// </summary>
public sealed class HintLoss : ILossTerm
{
    public HintLoss(string name, double weight, string studentPath, string teacherPath, FeatureProjector projector)
    {
        Name = name;
        Weight = weight;
        StudentPath = studentPath;
        TeacherPath = teacherPath;
        Projector = projector;
    }

    public string Name { get; }
    public double Weight { get; }
    public string StudentPath { get; }
    public string TeacherPath { get; }
    public FeatureProjector Projector { get; }
    public IReadOnlyList<string> StudentTaps => [StudentPath];
    public TeacherReads TeacherReads => new(taps: [TeacherPath]);
    public bool NeedsAttentions => false;
    public nn.Module? Trainable => Projector;

    /// <summary>
    /// Builds the term; the projector is sized from the modules' output shapes in <paramref name="context"/>. Unknown
    /// module paths raise <see cref="LossConfigException"/> at <c>student</c> / <c>teacher</c>; shapes that no projector
    /// can relate raise it at <c>student</c>.
    /// </summary>
    public static HintLoss Create(HintSpec spec, LossBuildContext context)
    {
        var sShape = ModuleShape(context.StudentModuleShapes, spec.Student, "student");
        var tShape = ModuleShape(context.TeacherModuleShapes, spec.Teacher, "teacher");
        var projector = FeatureProjector.For(sShape, tShape, "student",
            $"hint from student module '{spec.Student}' to teacher module '{spec.Teacher}'");
        return new HintLoss(spec.DisplayName, spec.Weight, spec.Student, spec.Teacher, projector);
    }

    public Tensor Compute(DistillContext context)
    {
        var fs = LossHelpers.Feature(context.StudentFeatures, StudentPath, "student", Name);
        var ft = LossHelpers.Feature(context.TeacherFeatures, TeacherPath, "teacher", Name);
        return Compute(fs, ft, Projector, Name);
    }

    /// <summary>MSE(projector(f_s), f_t), mean over all elements; the shapes after projection must be equal.</summary>
    public static Tensor Compute(Tensor studentFeature, Tensor teacherFeature, nn.Module<Tensor, Tensor> projector, string term = "hint")
    {
        var projected = LossHelpers.Float(projector.call(studentFeature));
        LossHelpers.SameShape(projected, teacherFeature, term, "the projected student feature");
        return F.mse_loss(projected, LossHelpers.Float(teacherFeature).detach().to_type(projected.dtype));
    }

    private static long[] ModuleShape(IReadOnlyDictionary<string, long[]> shapes, string path, string key)
    {
        if (shapes.TryGetValue(path, out var shape)) return shape;
        string last = path.Split('.')[^1];
        var near = shapes.Keys.Where(k => last.Length > 0 && k.Contains(last, StringComparison.Ordinal)).Take(10).ToList();
        if (near.Count == 0) near = shapes.Keys.Take(20).ToList();
        throw new LossConfigException(key,
            $"the {key} has no module '{path}' with a tensor output. Module paths are dotted names from named_modules(); " +
            $"for example: {string.Join(", ", near)}{(shapes.Count > near.Count ? ", ..." : "")}.");
    }
}
