using System.Text.Json;
using System.Text.Json.Serialization;
using Distill.Models.Hf;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// HuggingFace <c>Wav2Vec2Config</c> (transformers 4.40), field for field, with HF's defaults (those of
/// facebook/wav2vec2-base). Binds from a recipe's <c>config:</c> section or from a checkpoint folder's
/// <c>config.json</c> (<see cref="FromJsonFile"/>).
/// <para>
/// Every field that changes the math of the supported modules is honoured: the conv feature encoder
/// (<c>conv_dim</c>, <c>conv_kernel</c>, <c>conv_stride</c>, <c>conv_bias</c>, <c>feat_extract_norm</c>,
/// <c>feat_extract_activation</c>), the transformer (<c>hidden_size</c>, <c>num_hidden_layers</c>,
/// <c>num_attention_heads</c>, <c>intermediate_size</c>, <c>hidden_act</c>, <c>layer_norm_eps</c>,
/// <c>do_stable_layer_norm</c>, <c>num_conv_pos_embeddings</c>, <c>num_conv_pos_embedding_groups</c>), the
/// training-only regularisers (the dropouts, <c>layerdrop</c>, SpecAugment <c>mask_time_*</c>/<c>mask_feature_*</c>),
/// and the heads (<c>vocab_size</c>, <c>pad_token_id</c>, <c>ctc_loss_reduction</c>, <c>ctc_zero_infinity</c>,
/// <c>use_weighted_layer_sum</c>, <c>classifier_proj_size</c>, <c>num_labels</c>).
/// Fields of HF modules Distill does not implement (adapters, attention adapters, conformer position embeddings)
/// are accepted only at their "off" value; anything else is a validation error rather than a silently different model.
/// Fields that only matter to pre-training (<c>codevector_dim</c>, <c>num_negatives</c>, ...) or to the x-vector head
/// (<c>tdnn_*</c>) are accepted so that HF <c>config.json</c> files bind, and have no effect.
/// </para>
/// <para>
/// SpecAugment (<c>apply_spec_augment</c>, <c>mask_time_*</c>, <c>mask_feature_*</c>) is implemented and applied in
/// training mode only, from the training stage's generator (see <c>Wav2Vec2SpecAugment</c>); in eval it is off, as in HF.
/// LayerDrop and the dropouts likewise act only in training.
/// </para>
/// <para>
/// Which head the <c>wav2vec2</c> family builds is taken from <c>architectures</c> (HF's own field):
/// <c>Wav2Vec2ForSequenceClassification</c> (the default when absent) or <c>Wav2Vec2ForCTC</c>.
/// </para>
/// </summary>
public sealed record Wav2Vec2Config : ITransformerEncoderConfig
{
    // ---------------- feature encoder ----------------

    /// <summary>Output channels of each conv layer of the feature encoder.</summary>
    [JsonPropertyName("conv_dim")] public List<int> ConvDim { get; init; } = [512, 512, 512, 512, 512, 512, 512];

    /// <summary>Kernel width of each conv layer (same length as <see cref="ConvDim"/>).</summary>
    [JsonPropertyName("conv_kernel")] public List<int> ConvKernel { get; init; } = [10, 3, 3, 3, 3, 2, 2];

    /// <summary>Stride of each conv layer (same length as <see cref="ConvDim"/>).</summary>
    [JsonPropertyName("conv_stride")] public List<int> ConvStride { get; init; } = [5, 2, 2, 2, 2, 2, 2];

    /// <summary>Redundant with <c>len(conv_dim)</c>; HF writes it to config.json. When given it must agree.</summary>
    [JsonPropertyName("num_feat_extract_layers")] public int? NumFeatExtractLayers { get; init; }

    /// <summary>Whether the feature-encoder convolutions have a bias.</summary>
    [JsonPropertyName("conv_bias")] public bool ConvBias { get; init; }

    /// <summary>"group": GroupNorm (one group per channel) after conv layer 0 only; "layer": LayerNorm over channels after every conv layer.</summary>
    [JsonPropertyName("feat_extract_norm")] public string FeatExtractNorm { get; init; } = "group";

    /// <summary>Activation of the feature encoder and of the positional conv embedding.</summary>
    [JsonPropertyName("feat_extract_activation")] public string FeatExtractActivation { get; init; } = "gelu";

    /// <summary>Dropout on the projected features (training only).</summary>
    [JsonPropertyName("feat_proj_dropout")] public double FeatProjDropout { get; init; }

    // ---------------- transformer encoder ----------------

    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 768;

    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;

    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 12;

    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 3072;

    // The encoder sizes for pruning, teacher init and design; explicit, so config.json and recipes see no new keys.
    int ITransformerEncoderConfig.HeadDim => NumAttentionHeads > 0 ? HiddenSize / NumAttentionHeads : 0;

    /// <summary>HF's Wav2Vec2Config has no <c>pruned_heads</c>: a model with fewer heads could not be described.</summary>
    bool ITransformerEncoderConfig.CanPruneHeads => false;

    Dictionary<string, List<int>>? ITransformerEncoderConfig.PrunedHeads => null;

    int ITransformerEncoderConfig.HeadsInLayer(int layer) => NumAttentionHeads;

    ITransformerEncoderConfig ITransformerEncoderConfig.WithEncoder(int layers, int hiddenSize, int heads, int intermediateSize, Dictionary<string, List<int>>? prunedHeads) =>
        HeadPruning.Any(prunedHeads)
            ? throw new NotSupportedException("wav2vec2 configs have no pruned_heads: attention heads cannot be removed from a wav2vec2 model.")
            : this with { NumHiddenLayers = layers, HiddenSize = hiddenSize, NumAttentionHeads = heads, IntermediateSize = intermediateSize };

    /// <summary>Feed-forward activation, one of <see cref="HfActivation.Names"/>.</summary>
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "gelu";

    [JsonPropertyName("hidden_dropout")] public double HiddenDropout { get; init; } = 0.1;

    [JsonPropertyName("activation_dropout")] public double ActivationDropout { get; init; } = 0.1;

    [JsonPropertyName("attention_dropout")] public double AttentionDropout { get; init; } = 0.1;

    /// <summary>Dropout before the CTC / classification head (training only).</summary>
    [JsonPropertyName("final_dropout")] public double FinalDropout { get; init; } = 0.1;

    /// <summary>Probability of skipping a whole encoder layer per forward pass in training (LayerDrop, Fan et al. 2019).</summary>
    [JsonPropertyName("layerdrop")] public double LayerDrop { get; init; } = 0.1;

    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>false: post-norm layers and a LayerNorm before the first layer (wav2vec2-base); true: pre-norm layers and a final LayerNorm (large-lv60, XLS-R).</summary>
    [JsonPropertyName("do_stable_layer_norm")] public bool DoStableLayerNorm { get; init; }

    /// <summary>Kernel width of the convolutional relative position embedding.</summary>
    [JsonPropertyName("num_conv_pos_embeddings")] public int NumConvPosEmbeddings { get; init; } = 128;

    /// <summary>Groups of the convolutional position embedding (must divide hidden_size).</summary>
    [JsonPropertyName("num_conv_pos_embedding_groups")] public int NumConvPosEmbeddingGroups { get; init; } = 16;

    /// <summary>Standard deviation of the normal initialisation of Linear weights (fresh models only).</summary>
    [JsonPropertyName("initializer_range")] public double InitializerRange { get; init; } = 0.02;

    // ---------------- SpecAugment (training only) ----------------

    /// <summary>Master switch of SpecAugment masking in training.</summary>
    [JsonPropertyName("apply_spec_augment")] public bool ApplySpecAugment { get; init; } = true;

    /// <summary>Fraction of frames covered by time-mask spans (≈ mask_time_prob·T / mask_time_length spans); those frames are replaced by <c>masked_spec_embed</c>.</summary>
    [JsonPropertyName("mask_time_prob")] public double MaskTimeProb { get; init; } = 0.05;

    [JsonPropertyName("mask_time_length")] public int MaskTimeLength { get; init; } = 10;

    [JsonPropertyName("mask_time_min_masks")] public int MaskTimeMinMasks { get; init; } = 2;

    /// <summary>Fraction of hidden channels zeroed by feature-mask spans (same for every frame of an example).</summary>
    [JsonPropertyName("mask_feature_prob")] public double MaskFeatureProb { get; init; }

    [JsonPropertyName("mask_feature_length")] public int MaskFeatureLength { get; init; } = 10;

    [JsonPropertyName("mask_feature_min_masks")] public int MaskFeatureMinMasks { get; init; }

    // ---------------- heads ----------------

    /// <summary>CTC vocabulary size (width of <c>lm_head</c>).</summary>
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 32;

    /// <summary>CTC blank id.</summary>
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; init; }

    [JsonPropertyName("bos_token_id")] public int? BosTokenId { get; init; } = 1;

    [JsonPropertyName("eos_token_id")] public int? EosTokenId { get; init; } = 2;

    /// <summary>"sum" (HF default) or "mean" (each sequence's loss divided by its target length, then averaged over the batch).</summary>
    [JsonPropertyName("ctc_loss_reduction")] public string CtcLossReduction { get; init; } = "sum";

    /// <summary>Replace infinite CTC losses (targets longer than the frames allow) and their gradients by zero.</summary>
    [JsonPropertyName("ctc_zero_infinity")] public bool CtcZeroInfinity { get; init; }

    /// <summary>Sequence classification: pool a softmax-weighted sum of all hidden states (weights <c>layer_weights</c>) instead of the last one.</summary>
    [JsonPropertyName("use_weighted_layer_sum")] public bool UseWeightedLayerSum { get; init; }

    /// <summary>Width of the <c>projector</c> before mean pooling in sequence classification.</summary>
    [JsonPropertyName("classifier_proj_size")] public int ClassifierProjSize { get; init; } = 256;

    /// <summary>Number of classes; when absent, the size of <c>id2label</c>, else HF's default 2.</summary>
    [JsonPropertyName("num_labels")] public int? NumLabelsValue { get; init; }

    [JsonPropertyName("id2label")] public Dictionary<string, string>? Id2Label { get; init; }

    [JsonPropertyName("label2id")] public Dictionary<string, int>? Label2Id { get; init; }

    /// <summary>HF architecture name(s); selects the head: Wav2Vec2ForSequenceClassification (default) or Wav2Vec2ForCTC.</summary>
    [JsonPropertyName("architectures")] public List<string>? Architectures { get; init; }

    [JsonPropertyName("model_type")] public string? ModelType { get; init; } = "wav2vec2";

    // ---------------- unsupported modules: accepted only when off ----------------

    /// <summary>Conv adapter on top of the encoder: unsupported, must be false.</summary>
    [JsonPropertyName("add_adapter")] public bool AddAdapter { get; init; }

    /// <summary>Attention adapters (MMS): unsupported, must be null.</summary>
    [JsonPropertyName("adapter_attn_dim")] public int? AdapterAttnDim { get; init; }

    /// <summary>Conformer-style position embeddings (Wav2Vec2-Conformer): unsupported, must be absent or null.</summary>
    [JsonPropertyName("position_embeddings_type")] public string? PositionEmbeddingsType { get; init; }

    // ---------------- accepted for config.json compatibility, no effect here ----------------

    /// <summary>Adapter-only (no effect since adapters are refused).</summary>
    [JsonPropertyName("adapter_kernel_size")] public int AdapterKernelSize { get; init; } = 3;

    /// <summary>Adapter-only (no effect).</summary>
    [JsonPropertyName("adapter_stride")] public int AdapterStride { get; init; } = 2;

    /// <summary>Adapter-only (no effect).</summary>
    [JsonPropertyName("num_adapter_layers")] public int NumAdapterLayers { get; init; } = 3;

    /// <summary>Adapter-only (no effect; without adapters the output width is hidden_size).</summary>
    [JsonPropertyName("output_hidden_size")] public int? OutputHiddenSize { get; init; }

    /// <summary>Pre-training only (no effect).</summary>
    [JsonPropertyName("feat_quantizer_dropout")] public double FeatQuantizerDropout { get; init; }

    /// <summary>Pre-training only (no effect).</summary>
    [JsonPropertyName("num_codevectors_per_group")] public int NumCodevectorsPerGroup { get; init; } = 320;

    /// <summary>Pre-training only (no effect).</summary>
    [JsonPropertyName("num_codevector_groups")] public int NumCodevectorGroups { get; init; } = 2;

    /// <summary>Pre-training only (no effect).</summary>
    [JsonPropertyName("contrastive_logits_temperature")] public double ContrastiveLogitsTemperature { get; init; } = 0.1;

    /// <summary>Pre-training only (no effect).</summary>
    [JsonPropertyName("num_negatives")] public int NumNegatives { get; init; } = 100;

    /// <summary>Pre-training only (no effect).</summary>
    [JsonPropertyName("codevector_dim")] public int CodevectorDim { get; init; } = 256;

    /// <summary>Pre-training only (no effect).</summary>
    [JsonPropertyName("proj_codevector_dim")] public int ProjCodevectorDim { get; init; } = 256;

    /// <summary>Pre-training only (no effect).</summary>
    [JsonPropertyName("diversity_loss_weight")] public double DiversityLossWeight { get; init; } = 0.1;

    /// <summary>X-vector head only (no effect).</summary>
    [JsonPropertyName("tdnn_dim")] public List<int> TdnnDim { get; init; } = [512, 512, 512, 512, 1500];

    /// <summary>X-vector head only (no effect).</summary>
    [JsonPropertyName("tdnn_kernel")] public List<int> TdnnKernel { get; init; } = [5, 3, 3, 1, 1];

    /// <summary>X-vector head only (no effect).</summary>
    [JsonPropertyName("tdnn_dilation")] public List<int> TdnnDilation { get; init; } = [1, 2, 3, 1, 1];

    /// <summary>X-vector head only (no effect).</summary>
    [JsonPropertyName("xvector_output_dim")] public int XvectorOutputDim { get; init; } = 512;

    /// <summary>Informational (HF writes it); the weights' dtype is whatever the checkpoint holds.</summary>
    [JsonPropertyName("torch_dtype")] public string? TorchDtype { get; init; }

    /// <summary>Informational.</summary>
    [JsonPropertyName("transformers_version")] public string? TransformersVersion { get; init; }

    // ---------------- derived ----------------

    /// <summary>The number of classes: <c>num_labels</c>, else the size of <c>id2label</c>, else 2 (HF's default).</summary>
    [JsonIgnore] public int NumLabels => NumLabelsValue ?? Id2Label?.Count ?? 2;

    /// <summary>The head to build: the single entry of <c>architectures</c>, or Wav2Vec2ForSequenceClassification.</summary>
    [JsonIgnore] public string Architecture => Architectures is { Count: > 0 } a ? a[0] : SequenceClassificationArchitecture;

    /// <summary>Number of conv layers of the feature encoder.</summary>
    [JsonIgnore] public int NumConvLayers => ConvDim.Count;

    /// <summary>Audio samples per output frame (product of the strides): 320 for the wav2vec2 layout.</summary>
    [JsonIgnore] public long SamplesPerFrame => ConvStride.Aggregate(1L, (a, s) => a * s);

    public const string SequenceClassificationArchitecture = "Wav2Vec2ForSequenceClassification";
    public const string CtcArchitecture = "Wav2Vec2ForCTC";
    public const string BaseArchitecture = "Wav2Vec2Model";

    /// <summary>
    /// Number of output frames of the feature encoder for <paramref name="samples"/> input samples:
    /// L ← floor((L − kernel) / stride) + 1 per conv layer (PyTorch's Conv1d length formula without padding).
    /// Values ≤ 0 mean the input is shorter than the receptive field.
    /// </summary>
    public long FeatureLength(long samples)
    {
        long l = samples;
        for (int i = 0; i < ConvKernel.Count; i++) l = FloorDiv(l - ConvKernel[i], ConvStride[i]) + 1;
        return l;
    }

    /// <summary>The fewest input samples that give one output frame (the receptive field: 400 for the wav2vec2 layout).</summary>
    public long MinimumSamples()
    {
        long need = 1;
        for (int i = ConvKernel.Count - 1; i >= 0; i--) need = (need - 1) * ConvStride[i] + ConvKernel[i];
        return need;
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (ConvDim.Count == 0) yield return ("conv_dim", "needs at least one conv layer");
        if (ConvKernel.Count != ConvDim.Count || ConvStride.Count != ConvDim.Count)
            yield return ("conv_dim", $"conv_dim ({ConvDim.Count} entries), conv_kernel ({ConvKernel.Count}) and conv_stride ({ConvStride.Count}) must have the same length, one entry per conv layer");
        for (int i = 0; i < ConvDim.Count; i++) if (ConvDim[i] < 1) yield return ($"conv_dim[{i}]", "must be at least 1");
        for (int i = 0; i < ConvKernel.Count; i++) if (ConvKernel[i] < 1) yield return ($"conv_kernel[{i}]", "must be at least 1");
        for (int i = 0; i < ConvStride.Count; i++) if (ConvStride[i] < 1) yield return ($"conv_stride[{i}]", "must be at least 1");
        if (NumFeatExtractLayers is { } n && n != ConvDim.Count)
            yield return ("num_feat_extract_layers", $"is {n} but conv_dim has {ConvDim.Count} entries; remove it or make them agree");
        if (FeatExtractNorm is not ("group" or "layer"))
            yield return ("feat_extract_norm", $"'{FeatExtractNorm}' is not supported: use \"group\" (wav2vec2-base) or \"layer\" (wav2vec2-large-lv60 / XLS-R)");
        if (HfActivation.Problem(FeatExtractActivation) is { } badFeatAct) yield return ("feat_extract_activation", badFeatAct);
        if (HfActivation.Problem(HiddenAct) is { } badAct) yield return ("hidden_act", badAct);

        if (HiddenSize < 1) yield return ("hidden_size", "must be at least 1");
        if (NumHiddenLayers < 1) yield return ("num_hidden_layers", "must be at least 1");
        if (NumAttentionHeads < 1) yield return ("num_attention_heads", "must be at least 1");
        else if (HiddenSize % NumAttentionHeads != 0)
            yield return ("num_attention_heads", $"{NumAttentionHeads} heads do not divide hidden_size {HiddenSize}");
        if (IntermediateSize < 1) yield return ("intermediate_size", "must be at least 1");
        if (!(LayerNormEps > 0)) yield return ("layer_norm_eps", "must be > 0");
        if (NumConvPosEmbeddings < 1) yield return ("num_conv_pos_embeddings", "must be at least 1");
        if (NumConvPosEmbeddingGroups < 1) yield return ("num_conv_pos_embedding_groups", "must be at least 1");
        else if (HiddenSize % NumConvPosEmbeddingGroups != 0)
            yield return ("num_conv_pos_embedding_groups", $"{NumConvPosEmbeddingGroups} groups do not divide hidden_size {HiddenSize}");
        if (!(InitializerRange >= 0)) yield return ("initializer_range", "must be >= 0");

        foreach (var (key, p) in new[]
                 {
                     ("feat_proj_dropout", FeatProjDropout), ("hidden_dropout", HiddenDropout), ("activation_dropout", ActivationDropout),
                     ("attention_dropout", AttentionDropout), ("final_dropout", FinalDropout),
                 })
            if (!(p >= 0 && p < 1)) yield return (key, $"{p} is not a dropout probability in [0, 1)");
        if (!(LayerDrop >= 0 && LayerDrop <= 1)) yield return ("layerdrop", $"{LayerDrop} is not a probability in [0, 1]");

        if (!(MaskTimeProb >= 0 && MaskTimeProb <= 1)) yield return ("mask_time_prob", $"{MaskTimeProb} is not in [0, 1]");
        if (MaskTimeLength < 1) yield return ("mask_time_length", "must be at least 1");
        if (MaskTimeMinMasks < 0) yield return ("mask_time_min_masks", "must be >= 0");
        if (!(MaskFeatureProb >= 0 && MaskFeatureProb <= 1)) yield return ("mask_feature_prob", $"{MaskFeatureProb} is not in [0, 1]");
        if (MaskFeatureLength < 1) yield return ("mask_feature_length", "must be at least 1");
        else if (MaskFeatureProb > 0 && MaskFeatureLength > HiddenSize)
            yield return ("mask_feature_length", $"{MaskFeatureLength} is longer than hidden_size {HiddenSize}, so no feature span fits");
        if (MaskFeatureMinMasks < 0) yield return ("mask_feature_min_masks", "must be >= 0");

        if (VocabSize < 1) yield return ("vocab_size", "must be at least 1");
        if (PadTokenId < 0 || PadTokenId >= VocabSize)
            yield return ("pad_token_id", $"{PadTokenId} is the CTC blank and must be a token id in [0, vocab_size = {VocabSize})");
        if (CtcLossReduction is not ("sum" or "mean"))
            yield return ("ctc_loss_reduction", $"'{CtcLossReduction}' is not supported: use \"sum\" or \"mean\"");
        if (ClassifierProjSize < 1) yield return ("classifier_proj_size", "must be at least 1");
        if (NumLabels < 2) yield return ("num_labels", $"{NumLabels} classes: sequence classification needs at least 2");
        if (NumLabelsValue is { } nl && Id2Label is { } map && map.Count != nl)
            yield return ("num_labels", $"is {nl} but id2label has {map.Count} entries; make them agree");
        if (Architectures is { Count: > 1 })
            yield return ("architectures", $"lists {Architectures.Count} architectures; give one of {SequenceClassificationArchitecture}, {CtcArchitecture}, {BaseArchitecture}");
        else if (Architectures is { Count: 1 } a && a[0] is not (SequenceClassificationArchitecture or CtcArchitecture or BaseArchitecture))
            yield return ("architectures", $"'{a[0]}' is not supported; use {SequenceClassificationArchitecture}, {CtcArchitecture} or {BaseArchitecture}");
        if (ModelType is not (null or "wav2vec2"))
            yield return ("model_type", $"'{ModelType}' is not a wav2vec2 config (model_type must be \"wav2vec2\")");

        if (AddAdapter) yield return ("add_adapter", "the wav2vec2 conv adapter is not supported; set add_adapter: false");
        if (AdapterAttnDim is not null) yield return ("adapter_attn_dim", "attention adapters (MMS) are not supported; remove adapter_attn_dim or set it to null");
        if (PositionEmbeddingsType is not null)
            yield return ("position_embeddings_type", $"'{PositionEmbeddingsType}' position embeddings belong to Wav2Vec2-Conformer, which is not supported; remove the key");
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem of <see cref="Validate"/>, prefixed by <paramref name="where"/>.</summary>
    public void EnsureValid(string where = "wav2vec2 config")
    {
        var problems = Validate().ToList();
        if (problems.Count > 0)
            throw new ArgumentException($"{where}: invalid wav2vec2 configuration: " + string.Join("; ", problems.Select(p => $"{p.Key}: {p.Message}")));
    }

    /// <summary>
    /// Keys of HF's generic <c>PretrainedConfig</c> that a <c>config.json</c> may carry and that do not change these
    /// models; <see cref="FromJsonFile"/> ignores them. Any other unknown key is an error.
    /// </summary>
    public static IReadOnlySet<string> IgnoredPretrainedConfigKeys { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "_name_or_path", "return_dict", "output_hidden_states", "output_attentions", "torchscript", "use_bfloat16",
        "tf_legacy_loss", "pruned_heads", "tie_word_embeddings", "chunk_size_feed_forward", "is_encoder_decoder",
        "is_decoder", "cross_attention_hidden_size", "add_cross_attention", "tie_encoder_decoder", "problem_type",
        "finetuning_task", "tokenizer_class", "prefix", "sep_token_id", "decoder_start_token_id", "task_specific_params",
        "max_length", "min_length", "do_sample", "early_stopping", "num_beams", "num_beam_groups", "diversity_penalty",
        "temperature", "top_k", "top_p", "typical_p", "repetition_penalty", "length_penalty", "no_repeat_ngram_size",
        "encoder_no_repeat_ngram_size", "bad_words_ids", "num_return_sequences", "output_scores",
        "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id", "remove_invalid_values",
        "exponential_decay_length_penalty", "suppress_tokens", "begin_suppress_tokens", "_attn_implementation",
        "_commit_hash", "use_cache", "feat_extract_dropout", "gradient_checkpointing",
    };

    /// <summary>
    /// Reads an HF <c>config.json</c>. Unknown keys (other than <see cref="IgnoredPretrainedConfigKeys"/>) and invalid
    /// values throw an <see cref="InvalidDataException"/> naming the file and the key.
    /// </summary>
    public static Wav2Vec2Config FromJsonFile(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new FileNotFoundException($"{path}: cannot read the wav2vec2 config.json ({e.Message})", path, e); }
        Wav2Vec2Config? config;
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: config.json is not a JSON object");
            var known = typeof(Wav2Vec2Config).GetProperties()
                .Select(p => p.GetCustomAttributes(typeof(JsonPropertyNameAttribute), false).OfType<JsonPropertyNameAttribute>().FirstOrDefault()?.Name)
                .Where(n => n is not null).ToHashSet(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
                if (!known.Contains(prop.Name) && !IgnoredPretrainedConfigKeys.Contains(prop.Name))
                    throw new InvalidDataException($"{path}: unknown key '{prop.Name}' in a wav2vec2 config.json; it is neither a Wav2Vec2Config field nor a generic PretrainedConfig field Distill knows to be harmless. Remove it if it does not matter.");
            if (doc.RootElement.TryGetProperty("pruned_heads", out var pruned) && pruned.ValueKind == JsonValueKind.Object && pruned.EnumerateObject().Any())
                throw new InvalidDataException($"{path}: key 'pruned_heads' lists pruned attention heads, but head pruning is not implemented for wav2vec2 (transformers has no _prune_heads for it either); use an unpruned checkpoint.");
            config = JsonSerializer.Deserialize<Wav2Vec2Config>(text);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: config.json does not bind to Wav2Vec2Config at {e.Path ?? "?"} ({e.Message})", e);
        }
        if (config is null) throw new InvalidDataException($"{path}: config.json is null");
        var problems = config.Validate().ToList();
        if (problems.Count > 0)
            throw new InvalidDataException($"{path}: " + string.Join("; ", problems.Select(p => $"{p.Key}: {p.Message}")));
        return config;
    }
}
