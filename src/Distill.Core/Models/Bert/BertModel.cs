using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>
/// The BERT encoder (HF <c>BertModel</c>): <c>embeddings</c> → <c>encoder</c> → optional <c>pooler</c>. Reads the batch
/// inputs <c>input_ids</c> (B, T), optional <c>attention_mask</c> (B, T; 1 = real token, 0 = padding; default all ones)
/// and optional <c>token_type_ids</c> (B, T; default zeros). State-dict keys equal HF's base-model keys
/// (<c>embeddings.word_embeddings.weight</c>, <c>encoder.layer.0.attention.self.query.weight</c>, <c>pooler.dense.weight</c>).
/// Not a <see cref="DistillModel"/>: it has no logits. Inputs are checked before any kernel runs, so a bad batch is an
/// <see cref="ArgumentException"/>, never a native abort.
/// </summary>
public sealed class BertModel : nn.Module<Batch, BertModelOutput>
{
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;
    private readonly BertConfig _config;

    /// <param name="config">Validated on construction (<see cref="BertConfig.ThrowIfInvalid"/>).</param>
    /// <param name="addPoolingLayer">HF's <c>add_pooling_layer</c>: false drops <c>pooler</c> and <see cref="BertModelOutput.PoolerOutput"/>.</param>
    public BertModel(BertConfig config, bool addPoolingLayer = true) : base(nameof(BertModel))
    {
        config.ThrowIfInvalid();
        _config = config;
        embeddings = new BertEmbeddings(config);
        encoder = new BertEncoder(config);
        if (addPoolingLayer) pooler = new BertPooler(config);
        RegisterComponents();
        InitWeights(this, config);
    }

    public BertConfig Config => _config;

    /// <summary>When true, <see cref="BertModelOutput.Attentions"/> holds each layer's probabilities (B, heads, T, T).</summary>
    public bool OutputAttentions { get; set; }

    public override BertModelOutput forward(Batch batch)
    {
        var inputIds = batch["input_ids"];
        var tokenTypeIds = batch.Optional("token_type_ids");
        var attentionMask = batch.Optional("attention_mask");
        CheckInputs(inputIds, tokenTypeIds, attentionMask);
        if (inputIds.dtype != ScalarType.Int64) inputIds = inputIds.to(ScalarType.Int64);
        if (tokenTypeIds is not null && tokenTypeIds.dtype != ScalarType.Int64) tokenTypeIds = tokenTypeIds.to(ScalarType.Int64);

        var embedded = embeddings.call(inputIds, tokenTypeIds); // (B, T, D)
        var extendedMask = ExtendedAttentionMask(attentionMask ?? torch.ones_like(inputIds), embedded.dtype); // (B, 1, 1, T)
        encoder.OutputAttentions = OutputAttentions;
        var (last, hiddenStates, attentions) = encoder.call(embedded, extendedMask);
        return new BertModelOutput(last, pooler?.call(last)) { HiddenStates = hiddenStates, Attentions = attentions };
    }

    /// <summary>
    /// HF's <c>get_extended_attention_mask</c>: (B, T) of 1/0 → (B, 1, 1, T) additive mask (1 − m)·finfo(dtype).min,
    /// which is 0 for kept keys and the lowest finite value for masked ones (so a fully masked row stays finite).
    /// </summary>
    public static Tensor ExtendedAttentionMask(Tensor attentionMask, ScalarType dtype)
    {
        var m = attentionMask.unsqueeze(1).unsqueeze(2).to(dtype); // (B, 1, 1, T)
        return (1.0 - m) * torch.finfo(dtype).min;
    }

    private void CheckInputs(Tensor inputIds, Tensor? tokenTypeIds, Tensor? attentionMask)
    {
        if (inputIds.dim() != 2)
            throw new ArgumentException($"bert: input_ids must be (batch, sequence) but has shape [{string.Join(", ", inputIds.shape)}].");
        if (!IsIntegral(inputIds.dtype))
            throw new ArgumentException($"bert: input_ids must hold integer token ids, not {inputIds.dtype}.");
        long b = inputIds.shape[0], t = inputIds.shape[1];
        if (b < 1 || t < 1) throw new ArgumentException($"bert: input_ids is empty (shape [{b}, {t}]).");
        if (t > _config.MaxPositionEmbeddings)
            throw new ArgumentException($"bert: sequence length {t} exceeds max_position_embeddings {_config.MaxPositionEmbeddings}; truncate the input (tokenizer max_length) to at most {_config.MaxPositionEmbeddings}.");
        CheckRange("input_ids", inputIds, _config.VocabSize, "vocab_size");
        if (tokenTypeIds is not null)
        {
            if (!tokenTypeIds.shape.SequenceEqual(inputIds.shape))
                throw new ArgumentException($"bert: token_type_ids has shape [{string.Join(", ", tokenTypeIds.shape)}] but input_ids has [{b}, {t}]; they must match.");
            if (!IsIntegral(tokenTypeIds.dtype)) throw new ArgumentException($"bert: token_type_ids must hold integers, not {tokenTypeIds.dtype}.");
            CheckRange("token_type_ids", tokenTypeIds, _config.TypeVocabSize, "type_vocab_size");
        }
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(inputIds.shape))
            throw new ArgumentException($"bert: attention_mask has shape [{string.Join(", ", attentionMask.shape)}] but input_ids has [{b}, {t}]; they must match.");
    }

    private static void CheckRange(string name, Tensor ids, int size, string key)
    {
        long min = ids.min().to(ScalarType.Int64).item<long>(), max = ids.max().to(ScalarType.Int64).item<long>();
        if (min < 0 || max >= size)
            throw new ArgumentException($"bert: {name} holds values in [{min}, {max}] but config.{key} is {size}; ids must be in [0, {size}). Was the input made with another vocabulary?");
    }

    private static bool IsIntegral(ScalarType t) =>
        t is ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte;

    /// <summary>
    /// HF's <c>BertPreTrainedModel._init_weights</c>: Linear and Embedding weights ~ N(0, initializer_range), biases 0,
    /// the padding row of embeddings 0, LayerNorm weight 1 and bias 0. Checkpoint loading overwrites all of it.
    /// </summary>
    internal static void InitWeights(nn.Module root, BertConfig config)
    {
        using var _ = torch.no_grad();
        // named_modules() has no root entry: include the root itself (InitWeights(classifier) passes a bare Linear).
        foreach (var (name, module) in root.named_modules().Prepend(("", root)))
        {
            switch (module)
            {
                case Linear linear:
                    ParamInit.Normal_(linear.weight!, 0.0, config.InitializerRange);
                    linear.bias?.zero_();
                    break;
                case Embedding embedding:
                    ParamInit.Normal_(embedding.weight!, 0.0, config.InitializerRange);
                    if (name.EndsWith("word_embeddings", StringComparison.Ordinal) && config.PadTokenId is { } pad) embedding.weight![pad].zero_();
                    break;
                case LayerNorm norm:
                    norm.weight!.fill_(1.0);
                    norm.bias?.zero_();
                    break;
            }
        }
    }
}
