using Distill.Models;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>What a loss term reads for one batch: both models' outputs and the features tapped at module paths.</summary>
public sealed record DistillContext(
    Batch Batch,
    ModelOutput Student,
    ModelOutput Teacher,
    IReadOnlyDictionary<string, Tensor> StudentFeatures,
    IReadOnlyDictionary<string, Tensor> TeacherFeatures);
