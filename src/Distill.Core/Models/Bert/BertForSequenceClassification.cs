using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>
/// HF <c>BertForSequenceClassification</c>: <c>bert</c> (a <see cref="BertModel"/> with pooler) → dropout
/// (<c>classifier_dropout</c>, else <c>hidden_dropout_prob</c>) → <c>classifier</c> Linear(D, num_labels) on the pooled
/// [CLS] vector. State-dict keys equal HF's (<c>bert.embeddings...</c>, <c>classifier.weight</c>), so an HF checkpoint
/// loads with no mapping. With labels the output carries HF's loss for <c>problem_type</c>:
/// regression = MSE (squeezed when num_labels is 1), single_label_classification = mean cross entropy
/// (labels −100 ignored), multi_label_classification = mean BCE with logits. Registry key <c>bert</c>.
/// </summary>
public sealed class BertForSequenceClassification : DistillModel
{
    private readonly BertModel bert;
    private readonly Dropout dropout;
    private readonly Linear classifier;
    private readonly BertConfig _config;
    private readonly int _numLabels;

    public BertForSequenceClassification(BertConfig config) : base(nameof(BertForSequenceClassification))
    {
        config.ThrowIfInvalid();
        _config = config;
        _numLabels = config.ResolvedNumLabels;
        bert = new BertModel(config, addPoolingLayer: true);
        dropout = nn.Dropout(config.ResolvedClassifierDropout);
        classifier = nn.Linear(config.HiddenSize, _numLabels);
        RegisterComponents();
        BertModel.InitWeights(classifier, config);
    }

    public override string Family => "bert";
    public override int NumHiddenLayers => _config.NumHiddenLayers;
    public override int NumLabels => _numLabels;
    public override IModelConfig Config => _config;

    /// <summary>The encoder (state-dict prefix <c>bert.</c>).</summary>
    public BertModel Bert => bert;

    public override ModelOutput forward(Batch batch)
    {
        bert.OutputAttentions = OutputAttentions;
        var encoded = bert.call(batch);
        var pooled = encoded.PoolerOutput!; // (B, D)
        var logits = classifier.call(dropout.call(pooled)); // (B, num_labels)
        return new BertSequenceClassifierOutput(logits, encoded.LastHiddenState, pooled)
        {
            HiddenStates = encoded.HiddenStates,
            Attentions = encoded.Attentions,
            Loss = batch.Labels is { } labels ? ComputeLoss(logits, labels) : null,
        };
    }

    /// <summary>The problem type used for <paramref name="labels"/>: the config's, else HF's inference rule.</summary>
    public string ResolveProblemType(Tensor labels) => _config.ProblemType
        ?? (_numLabels == 1 ? "regression"
            : labels.dtype is ScalarType.Int64 or ScalarType.Int32 ? "single_label_classification"
            : "multi_label_classification");

    private Tensor ComputeLoss(Tensor logits, Tensor labels)
    {
        long b = logits.shape[0];
        switch (ResolveProblemType(labels))
        {
            case "regression":
                if (_numLabels == 1)
                {
                    if (labels.numel() != b) throw new ArgumentException($"bert: regression with 1 label needs {b} labels (one per example) but got shape [{string.Join(", ", labels.shape)}].");
                    return nn.functional.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype));
                }
                CheckSameShape(labels, logits, "regression");
                return nn.functional.mse_loss(logits, labels.to(logits.dtype));
            case "single_label_classification":
                if (labels.numel() != b) throw new ArgumentException($"bert: single-label classification needs {b} class ids (one per example) but labels have shape [{string.Join(", ", labels.shape)}].");
                if (labels.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte))
                    throw new ArgumentException($"bert: single-label classification needs integer class ids, not {labels.dtype} labels.");
                var flat = labels.reshape(-1).to(ScalarType.Int64);
                var valid = flat.ne(-100);
                if (valid.any().item<bool>())
                {
                    var kept = flat.masked_select(valid);
                    long min = kept.min().item<long>(), max = kept.max().item<long>();
                    if (min < 0 || max >= _numLabels)
                        throw new ArgumentException($"bert: labels hold class ids in [{min}, {max}] but the model has num_labels {_numLabels} (ids 0..{_numLabels - 1}, or -100 to ignore).");
                }
                return nn.functional.cross_entropy(logits.view(-1, _numLabels), flat);
            default: // multi_label_classification
                CheckSameShape(labels, logits, "multi-label classification");
                return nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype));
        }
    }

    private static void CheckSameShape(Tensor labels, Tensor logits, string what)
    {
        if (!labels.shape.SequenceEqual(logits.shape))
            throw new ArgumentException($"bert: {what} needs labels shaped like the logits [{string.Join(", ", logits.shape)}] but got [{string.Join(", ", labels.shape)}].");
    }

    internal static void Register(ModelRegistry registry) =>
        registry.Register<BertConfig>("bert", c => new BertForSequenceClassification(c), ["input_ids", "attention_mask", "token_type_ids"],
            "BERT encoder with a sequence-classification head (HF BertForSequenceClassification; HF config.json keys)");
}
