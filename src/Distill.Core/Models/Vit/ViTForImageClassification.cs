using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>
/// ViT with a linear classifier on the final-layernormed CLS token (HF <c>ViTForImageClassification</c>; the encoder
/// has no pooler). Paths: <c>vit.*</c> (a <see cref="ViTModel"/> without pooler) and <c>classifier</c>, so HF checkpoints
/// load by name. With labels, <see cref="ModelOutput.Loss"/> is HF's: problem_type <c>regression</c> → MSE
/// (squeezed when num_labels = 1), <c>single_label_classification</c> → mean cross-entropy (ignore_index −100),
/// <c>multi_label_classification</c> → BCE with logits; with no problem_type it is inferred per batch as HF does
/// (num_labels = 1 → regression; integer labels → single-label; otherwise multi-label).
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
        classifier = nn.Linear(config.HiddenSize, config.NumLabels);
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
            Loss = batch.Labels is { } labels ? ComputeLoss(logits, labels) : null,
        };
    }

    private Tensor ComputeLoss(Tensor logits, Tensor labels)
    {
        labels = labels.to(logits.device);
        int n = _config.NumLabels;
        string problem = _config.ProblemType
            ?? (n == 1 ? "regression"
                : labels.dtype is ScalarType.Int64 or ScalarType.Int32 ? "single_label_classification"
                : "multi_label_classification");
        switch (problem)
        {
            case "regression":
                {
                    var target = labels.to_type(logits.dtype);
                    if (n == 1) return nn.functional.mse_loss(logits.squeeze(), target.squeeze());
                    CheckSameShape(logits, target, "regression");
                    return nn.functional.mse_loss(logits, target);
                }
            case "single_label_classification":
                if (labels.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte))
                    throw new ArgumentException($"vit: problem_type single_label_classification needs integer class ids as labels, got {labels.dtype}.");
                if (labels.numel() != logits.shape[0])
                    throw new ArgumentException(
                        $"vit: single-label classification needs one class id per example ({logits.shape[0]}), got labels of shape ({string.Join(", ", labels.shape)}).");
                return nn.functional.cross_entropy(logits.view(-1, n), labels.view(-1).to_type(ScalarType.Int64));
            case "multi_label_classification":
                {
                    var target = labels.to_type(logits.dtype);
                    CheckSameShape(logits, target, "multi-label classification");
                    return nn.functional.binary_cross_entropy_with_logits(logits, target);
                }
            default:
                throw new InvalidOperationException($"vit: problem_type '{problem}' is not one of {string.Join(", ", ViTConfig.ProblemTypes)}.");
        }
    }

    private static void CheckSameShape(Tensor logits, Tensor labels, string what)
    {
        if (!logits.shape.SequenceEqual(labels.shape))
            throw new ArgumentException(
                $"vit: {what} needs labels shaped like the logits ({string.Join(", ", logits.shape)}), got ({string.Join(", ", labels.shape)}).");
    }

    internal static void Register(ModelRegistry registry) =>
        registry.Register<ViTConfig>("vit", c => new ViTForImageClassification(c), ["pixel_values"],
            "Vision Transformer image classifier (HF ViTForImageClassification; also the compact ViT for MNIST/CIFAR)");
}
