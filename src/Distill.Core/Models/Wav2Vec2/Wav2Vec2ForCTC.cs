using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// HF <c>Wav2Vec2ForCTC</c>: <c>wav2vec2</c> → dropout (final_dropout) → <c>lm_head</c> (hidden → vocab) per frame.
/// With labels (B, S) padded with −100 (any negative id is padding), the loss is CTC (Graves et al. 2006) with
/// blank = pad_token_id on log_softmax(logits) computed in float32, input lengths = frame counts from the
/// attention_mask (all frames without one), target lengths = number of non-negative labels, and reduction
/// "sum" (Σ over the batch) or "mean" (Σ_i loss_i / max(1, |target_i|) / B, PyTorch's definition), with
/// ctc_zero_infinity replacing infinite losses by 0.
/// </summary>
public sealed class Wav2Vec2ForCTC : DistillModel
{
    private readonly Wav2Vec2Model wav2vec2;
    private readonly SeededDropout dropout;
    private readonly Linear lm_head;
    private readonly Wav2Vec2Config _config;

    public Wav2Vec2ForCTC(Wav2Vec2Config config) : base(nameof(Wav2Vec2ForCTC))
    {
        config.EnsureValid();
        _config = config;
        wav2vec2 = new Wav2Vec2Model(config);
        dropout = new SeededDropout(config.FinalDropout);
        lm_head = ParamInit.Redraw(nn.Linear(config.HiddenSize, config.VocabSize));
        Wav2Vec2Init.Linear(lm_head, config.InitializerRange);
        RegisterComponents();
    }

    public override string Family => "wav2vec2";
    public override int NumHiddenLayers => _config.NumHiddenLayers;
    public override int NumLabels => _config.VocabSize;
    public override IModelConfig Config => _config;

    /// <summary>The base model (<c>wav2vec2.*</c>).</summary>
    public Wav2Vec2Model Wav2Vec2 => wav2vec2;

    public override ModelOutput forward(Batch batch)
    {
        wav2vec2.OutputAttentions = OutputAttentions;
        var inputValues = batch["input_values"];
        var attentionMask = batch.Optional("attention_mask");
        var output = wav2vec2.call(batch); // .call so hooks on wav2vec2 fire
        var logits = lm_head.call(dropout.call(output.LastHiddenState)); // (B, T, vocab)
        Tensor? loss = batch.Labels is { } labels ? Loss(logits, labels, inputValues, attentionMask) : null;
        return new Wav2Vec2HeadOutput(logits, output) { HiddenStates = output.HiddenStates, Attentions = output.Attentions, Loss = loss };
    }

    private Tensor Loss(Tensor logits, Tensor labels, Tensor inputValues, Tensor? attentionMask)
    {
        if (labels.dim() != 2 || labels.shape[0] != logits.shape[0])
            throw new ArgumentException($"wav2vec2 CTC: labels must be (batch, max_target_length) padded with -100, got shape ({string.Join(", ", labels.shape)}) for a batch of {logits.shape[0]}.");
        if (labels.is_floating_point())
            throw new ArgumentException($"wav2vec2 CTC: labels must be integer token ids, got {labels.dtype}.");
        labels = labels.to_type(ScalarType.Int64);
        if (labels.numel() > 0 && labels.max().item<long>() >= _config.VocabSize)
            throw new ArgumentException($"wav2vec2 CTC: label id {labels.max().item<long>()} is not below vocab_size {_config.VocabSize}.");
        var mask = attentionMask ?? torch.ones_like(inputValues, dtype: ScalarType.Int64);
        var inputLengths = wav2vec2.FeatureLengths(mask.to_type(ScalarType.Int64).sum(-1));   // (B,)
        var labelsMask = labels >= 0;                                                           // (B, S)
        var targetLengths = labelsMask.sum(-1).to_type(ScalarType.Int64);                       // (B,)
        var targets = labels.masked_select(labelsMask);                                         // (Σ S_i,)
        var logProbs = nn.functional.log_softmax(logits.to_type(ScalarType.Float32), -1).transpose(0, 1); // (T, B, vocab)
        var reduction = _config.CtcLossReduction == "mean" ? nn.Reduction.Mean : nn.Reduction.Sum;
        return nn.functional.ctc_loss(logProbs, targets, inputLengths, targetLengths,
            blank: _config.PadTokenId, zero_infinity: _config.CtcZeroInfinity, reduction: reduction);
    }
}
