using Distill.Models.Hf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>
/// ViT with a linear classifier on the final-layernormed CLS token (HF <c>ViTForImageClassification</c>; the encoder
/// has no pooler). Paths: <c>vit.*</c> (a <see cref="ViTModel"/> without pooler) and <c>classifier</c>, so HF checkpoints
/// load by name. With labels, <see cref="ModelOutput.Loss"/> is HF's for <c>problem_type</c>, inferred per batch when
/// it is not set (<see cref="SequenceClassificationLoss"/>).
/// Also the compact "ViT-style transformer for images" of the quickstart (for example image 28, patch 7, 1 channel on MNIST).
/// </summary>
public sealed class ViTForImageClassification : DistillModel
{
    private readonly ViTModel vit;
    private readonly Linear classifier;
    private readonly ViTConfig _config;

    public ViTForImageClassification(ViTConfig config) : base("ViTForImageClassification")
    {
        _config = config;
        vit = new ViTModel(config, addPoolingLayer: false, initWeights: false);
        classifier = ParamInit.Redraw(nn.Linear(config.HiddenSize, config.NumLabels));
        RegisterComponents();
        ViTWeightInit.Apply(this, config.InitializerRange);
    }

    public override string Family => "vit";
    public override int NumHiddenLayers => _config.NumHiddenLayers;
    public override int NumLabels => _config.NumLabels;
    public override IModelConfig Config => _config;

    /// <summary>The encoder (HF's <c>vit</c> attribute).</summary>
    public ViTModel Vit => vit;

    public override ModelOutput forward(Batch batch)
    {
        vit.OutputAttentions = OutputAttentions;
        var encoded = vit.call(batch);
        var logits = classifier.call(encoded.LastHiddenState.select(1, 0)); // CLS token (B, D) → (B, num_labels)
        return new ViTImageClassifierOutput(logits)
        {
            HiddenStates = encoded.HiddenStates,
            Attentions = encoded.Attentions,
            Loss = batch.Labels is { } labels ? SequenceClassificationLoss.Compute(logits, labels, _config.NumLabels, _config.ProblemType, "vit") : null,
        };
    }
}
