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

    /// <summary>Teacher module paths whose outputs the term reads.</summary>
    IReadOnlyList<string> TeacherTaps { get; }

    /// <summary>True when the term needs <see cref="ModelOutput.Attentions"/> from both models.</summary>
    bool NeedsAttentions { get; }

    /// <summary>Trainable parameters of the term (hint projectors), trained with the student and saved in checkpoints; null if none.</summary>
    nn.Module? Trainable { get; }

    /// <summary>The unweighted term value, a scalar tensor with gradient to the student (and projector).</summary>
    Tensor Compute(DistillContext context);
}
