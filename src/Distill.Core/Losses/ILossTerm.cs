using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>One named term of the distillation objective, built from its recipe spec for a given teacher/student pair.</summary>
public interface ILossTerm
{
    /// <summary>Log name (<c>loss/&lt;Name&gt;</c>).</summary>
    string Name { get; }

    double Weight { get; }

    /// <summary>Student module paths whose outputs the term reads (tapped by forward hooks).</summary>
    IReadOnlyList<string> StudentTaps { get; }

    /// <summary>
    /// Every teacher output the term reads (no default: a term that forgot a layer would read a freed or uncached one).
    /// The cache and the objective keep the union over the terms (<see cref="Distill.Caching.TeacherNeeds"/>).
    /// </summary>
    TeacherReads TeacherReads { get; }

    /// <summary>True when the term reads the student's <see cref="ModelOutput.Attentions"/> (the teacher's are in <see cref="TeacherReads"/>).</summary>
    bool NeedsAttentions { get; }

    /// <summary>Trainable parameters of the term (hint projectors), trained with the student and saved in checkpoints; null if none.</summary>
    nn.Module? Trainable { get; }

    /// <summary>The unweighted term value, a scalar tensor with gradient to the student (and projector).</summary>
    Tensor Compute(DistillContext context);
}
