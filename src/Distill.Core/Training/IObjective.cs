using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>What a training stage minimises. The trainer owns the loop; the objective owns the forward passes and the loss.</summary>
public interface IObjective
{
    /// <summary>Parameters trained alongside the student (hint projectors), saved in checkpoints; null when none.</summary>
    nn.Module? Trainable { get; }

    /// <summary>Loss of <paramref name="student"/> on one batch. Called inside the step's dispose scope.</summary>
    LossBreakdown Compute(DistillModel student, Batch batch);
}
