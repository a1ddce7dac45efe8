using Distill.Models.Hf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// HF <c>Wav2Vec2ForSequenceClassification</c> (SUPERB-style utterance classification): frame states h (B, T, D) —
/// the last hidden state, or with use_weighted_layer_sum Σ_l softmax(w)_l · hidden_states_l over the L + 1 hidden
/// states (w = <c>layer_weights</c>, initialised to 1/(L + 1)) — → <c>projector</c> (D → classifier_proj_size) →
/// mean over frames (over the real frames only when the batch has an attention_mask: Σ_t m_t·p_t / Σ_t m_t) →
/// <c>classifier</c>. Loss: cross-entropy (mean, ignore −100) whatever <c>problem_type</c> says, as in HF
/// (<see cref="SequenceClassificationLoss.CrossEntropy"/>). No dropout in the head, as in HF.
/// </summary>
public sealed class Wav2Vec2ForSequenceClassification : DistillModel
{
    private readonly Wav2Vec2Model wav2vec2;
    private readonly Parameter? layer_weights;
    private readonly Linear projector;
    private readonly Linear classifier;
    private readonly Wav2Vec2Config _config;

    public Wav2Vec2ForSequenceClassification(Wav2Vec2Config config) : base(nameof(Wav2Vec2ForSequenceClassification))
    {
        config.EnsureValid();
        _config = config;
        wav2vec2 = new Wav2Vec2Model(config);
        if (config.UseWeightedLayerSum)
            layer_weights = new Parameter(torch.ones(config.NumHiddenLayers + 1) / (config.NumHiddenLayers + 1));
        projector = ParamInit.Redraw(nn.Linear(config.HiddenSize, config.ClassifierProjSize));
        classifier = ParamInit.Redraw(nn.Linear(config.ClassifierProjSize, config.NumLabels));
        Wav2Vec2Init.Linear(projector, config.InitializerRange);
        Wav2Vec2Init.Linear(classifier, config.InitializerRange);
        RegisterComponents();
    }

    public override string Family => "wav2vec2";
    public override int NumHiddenLayers => _config.NumHiddenLayers;
    public override int NumLabels => _config.NumLabels;
    public override IModelConfig Config => _config;

    /// <summary>The base model (<c>wav2vec2.*</c>).</summary>
    public Wav2Vec2Model Wav2Vec2 => wav2vec2;

    public override ModelOutput forward(Batch batch)
    {
        wav2vec2.OutputAttentions = OutputAttentions;
        var attentionMask = batch.Optional("attention_mask");
        var output = wav2vec2.call(batch); // .call so hooks on wav2vec2 fire
        Tensor hidden;
        if (layer_weights is not null)
        {
            var stacked = torch.stack(output.HiddenStates, dim: 1);                  // (B, L+1, T, D)
            var norm = layer_weights.softmax(-1).view(-1, 1, 1);                      // (L+1, 1, 1)
            hidden = (stacked * norm).sum(1);                                         // (B, T, D)
        }
        else hidden = output.LastHiddenState;
        var projected = projector.call(hidden);                                       // (B, T, P)
        Tensor pooled;
        if (attentionMask is null) pooled = projected.mean(new long[] { 1 });         // (B, P)
        else
        {
            var keep = output.FeatureAttentionMask!;                                  // (B, T) bool
            pooled = projected.masked_fill(keep.logical_not().unsqueeze(-1), 0.0).sum(1)
                     / keep.sum(1).view(-1, 1);                                       // (B, P)
        }
        var logits = classifier.call(pooled);                                         // (B, num_labels)
        var loss = batch.Labels is { } labels ? SequenceClassificationLoss.CrossEntropy(logits, labels, _config.NumLabels, "wav2vec2") : null;
        return new Wav2Vec2HeadOutput(logits, output) { HiddenStates = output.HiddenStates, Attentions = output.Attentions, Loss = loss };
    }

    /// <summary>Builds the head the config's <c>architectures</c> names.</summary>
    public static DistillModel Build(Wav2Vec2Config config) => config.Architecture switch
    {
        Wav2Vec2Config.CtcArchitecture => new Wav2Vec2ForCTC(config),
        Wav2Vec2Config.SequenceClassificationArchitecture => new Wav2Vec2ForSequenceClassification(config),
        _ => throw new ArgumentException(
            $"wav2vec2 config: architectures '{config.Architecture}' has no head to train; use {Wav2Vec2Config.SequenceClassificationArchitecture} or {Wav2Vec2Config.CtcArchitecture} (load a bare {Wav2Vec2Config.BaseArchitecture} checkpoint into either: its keys get the 'wav2vec2.' prefix)."),
    };
}
