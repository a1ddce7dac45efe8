using Distill.Training;

namespace Distill.Compression.Quantization;

/// <summary>Keeps a model's shared weights tied to their centroids during fine-tuning: after every optimizer step the
/// centroids take a step on the summed gradients (at the step's learning rate) and the entries are rewritten.</summary>
public sealed class SharedWeightsCallback(SharedWeights shared) : ITrainerCallback
{
    public void OnStageStart(TrainingSession session) => shared.Apply();

    public void OnAfterOptimizerStep(TrainingSession session) =>
        shared.Step(session.Optimizer.ParamGroups.First().LearningRate);
}
