using Distill.Models.Hf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>
/// HF <c>BertForSequenceClassification</c>: <c>bert</c> (a <see cref="BertModel"/> with pooler) → dropout
/// (<c>classifier_dropout</c>, else <c>hidden_dropout_prob</c>) → <c>classifier</c> Linear(D, num_labels) on the pooled
/// [CLS] vector. State-dict keys equal HF's (<c>bert.embeddings...</c>, <c>classifier.weight</c>), so an HF checkpoint
/// loads with no mapping. With labels the output carries HF's loss for <c>problem_type</c>
/// (<see cref="SequenceClassificationLoss"/>). Registry key <c>bert</c>.
/// </summary>
public sealed class BertForSequenceClassification : DistillModel
{
    private readonly BertModel bert;
    private readonly SeededDropout dropout;
    private readonly Linear classifier;
    private readonly BertConfig _config;
    private readonly int _numLabels;

    public BertForSequenceClassification(BertConfig config) : base(nameof(BertForSequenceClassification))
    {
        config.ThrowIfInvalid();
        _config = config;
        _numLabels = config.ResolvedNumLabels;
        bert = new BertModel(config, addPoolingLayer: true);
        dropout = new SeededDropout(config.ResolvedClassifierDropout);
        classifier = ParamInit.Redraw(nn.Linear(config.HiddenSize, _numLabels));
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
            Loss = batch.Labels is { } labels ? SequenceClassificationLoss.Compute(logits, labels, _numLabels, _config.ProblemType, "bert") : null,
        };
    }

    /// <summary>The problem type used for <paramref name="labels"/>: the config's, else HF's inference rule.</summary>
    public string ResolveProblemType(Tensor labels) => SequenceClassificationLoss.Resolve(_config.ProblemType, _numLabels, labels);
}
