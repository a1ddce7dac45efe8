using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// wav2vec 2.0 (Baevski et al. 2020, "wav2vec 2.0: A Framework for Self-Supervised Learning of Speech
/// Representations"), HuggingFace's <c>Wav2Vec2Model</c> (transformers 4.40) module for module, so state-dict keys are
/// HF's: <c>feature_extractor.conv_layers.{i}.*</c>, <c>feature_projection.*</c>, <c>encoder.*</c>, <c>masked_spec_embed</c>.
/// <para>
/// Pipeline: raw audio (B, L) → <see cref="Wav2Vec2FeatureEncoder"/> (B, C, T) → (B, T, C) →
/// <see cref="Wav2Vec2FeatureProjection"/> → SpecAugment (training only) → encoder (post-norm
/// <see cref="Wav2Vec2Encoder"/> or pre-norm <see cref="Wav2Vec2EncoderStableLayerNorm"/>).
/// </para>
/// <para>
/// Padding: with an <c>attention_mask</c> (B, L) over samples, the real frame count per example is
/// len_T = f(Σ mask) with f applying floor((L − k)/s) + 1 per conv layer; frames ≥ len_T are zeroed before the encoder
/// and removed from attention by an additive dtype-min key mask. Without a mask every frame is real (HF's advice for
/// "group"-norm checkpoints, which were trained without masks).
/// </para>
/// </summary>
public sealed class Wav2Vec2Model : nn.Module<Batch, Wav2Vec2ModelOutput>, IStochasticModule
{
    private readonly Wav2Vec2FeatureEncoder feature_extractor;
    private readonly Wav2Vec2FeatureProjection feature_projection;
    private readonly nn.Module<Tensor, Tensor?, bool, Wav2Vec2EncoderOutput> encoder;
    private readonly Parameter? masked_spec_embed;
    private readonly Wav2Vec2Config _config;

    public Wav2Vec2Model(Wav2Vec2Config config) : base(nameof(Wav2Vec2Model))
    {
        config.EnsureValid();
        _config = config;
        feature_extractor = new Wav2Vec2FeatureEncoder(config);
        feature_projection = new Wav2Vec2FeatureProjection(config);
        encoder = config.DoStableLayerNorm
            ? new Wav2Vec2EncoderStableLayerNorm(config)
            : new Wav2Vec2Encoder(config);
        // HF creates the SpecAugment embedding only when some masking is configured (and so do its checkpoints).
        if (config.MaskTimeProb > 0 || config.MaskFeatureProb > 0)
            masked_spec_embed = new Parameter(ParamInit.Rand(config.HiddenSize));
        RegisterComponents();
    }

    /// <summary>SpecAugment's generator.</summary>
    public Generator? Generator { get; set; }

    public Wav2Vec2Config Config => _config;

    /// <summary>When true, the output carries the attention probabilities of every layer.</summary>
    public bool OutputAttentions { get; set; }

    /// <summary>Reads <c>input_values</c> (B, L) and the optional <c>attention_mask</c> (B, L).</summary>
    public override Wav2Vec2ModelOutput forward(Batch batch) =>
        Forward(batch["input_values"], batch.Optional("attention_mask"));

    /// <summary>The forward pass on tensors: <paramref name="inputValues"/> (B, L) float, <paramref name="attentionMask"/> (B, L) 0/1 or null.</summary>
    public Wav2Vec2ModelOutput Forward(Tensor inputValues, Tensor? attentionMask)
    {
        CheckInputs(inputValues, attentionMask);
        var features = feature_extractor.call(inputValues).transpose(1, 2); // (B, T, C)
        long frames = features.shape[1];
        Tensor? featureMask = attentionMask is null ? null : FeatureAttentionMask(frames, attentionMask);
        var (hidden, extract) = feature_projection.call(features);           // (B, T, D), (B, T, C)
        hidden = MaskHiddenStates(hidden, featureMask);
        var enc = encoder.call(hidden, featureMask, OutputAttentions);
        return new Wav2Vec2ModelOutput(enc.LastHiddenState, extract)
        {
            HiddenStates = enc.HiddenStates,
            Attentions = enc.Attentions,
            FeatureAttentionMask = featureMask,
        };
    }

    /// <summary>
    /// HF's <c>_get_feature_vector_attention_mask</c>: (B, frames) bool, true for the first f(Σ mask) frames of each row,
    /// f = the conv output-length formula (<see cref="Wav2Vec2Config.FeatureLength"/>).
    /// </summary>
    public Tensor FeatureAttentionMask(long frames, Tensor attentionMask)
    {
        var lengths = FeatureLengths(attentionMask.to_type(ScalarType.Int64).sum(-1)); // (B,)
        var positions = torch.arange(frames, device: attentionMask.device).unsqueeze(0);  // (1, T)
        return positions < lengths.unsqueeze(1);                                             // (B, T)
    }

    /// <summary>Frame counts for sample counts (int64 tensor), floor((L − k)/s) + 1 per conv layer.</summary>
    public Tensor FeatureLengths(Tensor sampleLengths)
    {
        var l = sampleLengths.to_type(ScalarType.Int64);
        for (int i = 0; i < _config.ConvKernel.Count; i++)
            l = torch.floor_divide(l - _config.ConvKernel[i], _config.ConvStride[i]) + 1;
        return l;
    }

    /// <summary>SpecAugment in training (HF's <c>_mask_hidden_states</c>): time spans → masked_spec_embed, feature spans → 0.</summary>
    private Tensor MaskHiddenStates(Tensor hidden, Tensor? featureMask)
    {
        if (!training || !_config.ApplySpecAugment) return hidden;
        int b = (int)hidden.shape[0], t = (int)hidden.shape[1], d = (int)hidden.shape[2];
        if (_config.MaskTimeProb > 0)
        {
            long[]? real = featureMask?.to_type(ScalarType.Int64).sum(-1).cpu().data<long>().ToArray();
            var m = Wav2Vec2SpecAugment.ComputeMask(b, t, _config.MaskTimeProb, _config.MaskTimeLength, real, _config.MaskTimeMinMasks, Generator);
            var mt = Wav2Vec2SpecAugment.ToTensor(m, hidden.device).unsqueeze(-1);          // (B, T, 1)
            hidden = torch.where(mt, masked_spec_embed!.to_type(hidden.dtype), hidden);      // (B, T, D)
        }
        if (_config.MaskFeatureProb > 0)
        {
            var m = Wav2Vec2SpecAugment.ComputeMask(b, d, _config.MaskFeatureProb, _config.MaskFeatureLength, null, _config.MaskFeatureMinMasks, Generator);
            var mf = Wav2Vec2SpecAugment.ToTensor(m, hidden.device).unsqueeze(1);           // (B, 1, D)
            hidden = hidden.masked_fill(mf, 0.0);
        }
        return hidden;
    }

    private void CheckInputs(Tensor inputValues, Tensor? attentionMask)
    {
        if (inputValues.dim() != 2)
            throw new ArgumentException($"wav2vec2: input_values must be (batch, samples), got shape ({string.Join(", ", inputValues.shape)}). " +
                                        "Squeeze a channel dimension and mix stereo to mono before the feature extractor.");
        if (!inputValues.is_floating_point())
            throw new ArgumentException($"wav2vec2: input_values must be floating point, got {inputValues.dtype}.");
        long min = _config.MinimumSamples();
        if (inputValues.shape[1] < min)
            throw new ArgumentException($"wav2vec2: input_values has {inputValues.shape[1]} samples; the feature encoder needs at least {min} (its receptive field). Pad or drop shorter clips.");
        if (attentionMask is null) return;
        if (attentionMask.dim() != 2 || attentionMask.shape[0] != inputValues.shape[0] || attentionMask.shape[1] != inputValues.shape[1])
            throw new ArgumentException($"wav2vec2: attention_mask of shape ({string.Join(", ", attentionMask.shape)}) does not match input_values ({string.Join(", ", inputValues.shape)}).");
        var lengths = attentionMask.to_type(ScalarType.Int64).sum(-1).cpu().data<long>().ToArray();
        for (int i = 0; i < lengths.Length; i++)
            if (lengths[i] < min)
                throw new ArgumentException($"wav2vec2: example {i} of the batch has {lengths[i]} real samples (attention_mask); the feature encoder needs at least {min} for one frame. Drop or pad such clips before batching.");
    }
}
