using Distill.Training;

namespace Distill.Compression.Quantization;

/// <summary>Drives <see cref="QatWeights"/> (and optional activation quantizers) through a training stage.</summary>
public sealed class QatCallback(QatWeights weights, ActivationQuantizers? activations, Distill.Models.DistillModel model) : ITrainerCallback
{
    public void OnStageStart(TrainingSession session)
    {
        // A resumed session restored the latent weights and ranges from its checkpoint; a fresh one starts from the model.
        if (session.Step == 0) weights.Start();
        else weights.Quantize();
        activations?.Attach(model);
    }

    public void OnBeforeOptimizerStep(TrainingSession session) => weights.BeforeStep();

    public void OnAfterOptimizerStep(TrainingSession session) => weights.AfterStep();

    public void OnStageEnd(TrainingSession session) => activations?.Detach();
}
