using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>Plain supervised training: cross-entropy of the logits against the labels (teacher training and the baseline).</summary>
public sealed class CrossEntropyObjective : IObjective
{
    public nn.Module? Trainable => null;

    public LossBreakdown Compute(DistillModel student, Batch batch)
    {
        var output = student.call(batch);
        var ce = nn.functional.cross_entropy(output.Logits.to_type(ScalarType.Float32), batch.RequireLabels()); // bf16 models: reduce in fp32
        return new LossBreakdown(ce, [("ce", ce)]);
    }
}
