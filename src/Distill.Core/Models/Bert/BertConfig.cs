using System.Text.Json;
using System.Text.Json.Serialization;
using Distill.Models.Hf;

namespace Distill.Models.Bert;

/// <summary>
/// Configuration of a BERT encoder (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers"),
/// mirroring HuggingFace transformers' <c>BertConfig</c> key for key so a <c>config.json</c> written by
/// <c>save_pretrained</c> loads as is (and recipes use the same snake_case keys). Defaults are HF's (bert-base).
/// Every key that changes the computation is honoured or refused with an error; keys HF writes that do not matter
/// here (<c>architectures</c>, <c>use_cache</c>, <c>torch_dtype</c>, <c>label2id</c>, ...) are tolerated and ignored.
/// </summary>
public sealed record BertConfig : ITransformerEncoderConfig
{
    /// <summary>HF writes <c>"bert"</c>; any other value means the file belongs to another family.</summary>
    [JsonPropertyName("model_type")] public string? ModelType { get; init; }

    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 30522;

    /// <summary>Model width D.</summary>
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 768;

    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;

    /// <summary>Heads per layer; <c>hidden_size</c> must be divisible by it (head dim = D / heads).</summary>
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 12;

    /// <summary>Width of the feed-forward block.</summary>
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 3072;

    /// <summary>Feed-forward activation, one of <see cref="HfActivation.Names"/>.</summary>
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "gelu";

    /// <summary>Dropout on embeddings and on each sub-layer output before its residual add.</summary>
    [JsonPropertyName("hidden_dropout_prob")] public double HiddenDropoutProb { get; init; } = 0.1;

    /// <summary>Dropout on the attention probabilities.</summary>
    [JsonPropertyName("attention_probs_dropout_prob")] public double AttentionProbsDropoutProb { get; init; } = 0.1;

    /// <summary>Number of learned absolute positions: the longest sequence the model accepts.</summary>
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 512;

    /// <summary>Number of segment (token type) embeddings: 2 for sentence pairs.</summary>
    [JsonPropertyName("type_vocab_size")] public int TypeVocabSize { get; init; } = 2;

    /// <summary>Standard deviation of the normal initialisation of Linear and Embedding weights (HF <c>_init_weights</c>).</summary>
    [JsonPropertyName("initializer_range")] public double InitializerRange { get; init; } = 0.02;

    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-12;

    /// <summary>Padding token id: its word-embedding row is initialised to zero and receives no gradient (HF <c>padding_idx</c>).
    /// Null = no padding index.</summary>
    [JsonPropertyName("pad_token_id")] public int? PadTokenId { get; init; } = 0;

    /// <summary>Only <c>"absolute"</c> (learned positions added to the embeddings) is implemented.</summary>
    [JsonPropertyName("position_embedding_type")] public string PositionEmbeddingType { get; init; } = "absolute";

    /// <summary>Number of classifier outputs. When omitted: the size of <c>id2label</c>, else 2 (HF's default).</summary>
    [JsonPropertyName("num_labels")] public int? NumLabels { get; init; }

    /// <summary>Class names by id ("0", "1", ...), as HF writes them into config.json.</summary>
    [JsonPropertyName("id2label")] public Dictionary<string, string>? Id2Label { get; init; }

    /// <summary>Which loss the classification head computes: MSE for <c>regression</c>, cross entropy for
    /// <c>single_label_classification</c>, BCE-with-logits for <c>multi_label_classification</c>. Null = HF's rule
    /// (1 label → regression; integer labels → single label; otherwise multi label).</summary>
    [JsonPropertyName("problem_type")] public string? ProblemType { get; init; }

    /// <summary>Dropout before the classifier; null = <c>hidden_dropout_prob</c>.</summary>
    [JsonPropertyName("classifier_dropout")] public double? ClassifierDropout { get; init; }

    /// <summary>Decoder (causal) BERT is not implemented; must be false.</summary>
    [JsonPropertyName("is_decoder")] public bool IsDecoder { get; init; }

    /// <summary>Cross-attention layers are not implemented; must be false.</summary>
    [JsonPropertyName("add_cross_attention")] public bool AddCrossAttention { get; init; }

    /// <summary>HF's <c>pruned_heads</c>: per encoder layer (key = layer index as a string), the ORIGINAL indices of the
    /// attention heads removed from it, e.g. <c>{"0": [1, 3]}</c>. Null or empty = none. Layer i then has
    /// <see cref="HeadsInLayer"/> heads of <see cref="HeadDim"/> each (see <see cref="HeadPruning"/>).</summary>
    [JsonPropertyName("pruned_heads")] public Dictionary<string, List<int>>? PrunedHeads { get; init; }

    /// <summary>The number of classes the head outputs: <c>num_labels</c>, else the size of <c>id2label</c>, else 2.</summary>
    [JsonIgnore] public int ResolvedNumLabels => NumLabels ?? Id2Label?.Count ?? 2;

    /// <summary>Width of one attention head: hidden_size / num_attention_heads.</summary>
    [JsonIgnore] public int HeadDim => NumAttentionHeads > 0 ? HiddenSize / NumAttentionHeads : 0;

    /// <summary>Attention heads of encoder layer <paramref name="layer"/>: num_attention_heads minus its pruned heads.</summary>
    public int HeadsInLayer(int layer) => HeadPruning.HeadsIn(PrunedHeads, layer, NumAttentionHeads);

    bool ITransformerEncoderConfig.CanPruneHeads => true;

    ITransformerEncoderConfig ITransformerEncoderConfig.WithEncoder(int layers, int hiddenSize, int heads, int intermediateSize, Dictionary<string, List<int>>? prunedHeads) =>
        this with { NumHiddenLayers = layers, HiddenSize = hiddenSize, NumAttentionHeads = heads, IntermediateSize = intermediateSize, PrunedHeads = prunedHeads };

    /// <summary>Dropout probability used before the classifier.</summary>
    [JsonIgnore] public double ResolvedClassifierDropout => ClassifierDropout ?? HiddenDropoutProb;

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (ModelType is not null && ModelType != "bert")
            yield return ("model_type", $"is '{ModelType}', but this is the BERT family: use the family that matches the checkpoint, or fix model_type to 'bert'");
        if (VocabSize < 1) yield return ("vocab_size", "must be at least 1");
        if (HiddenSize < 1) yield return ("hidden_size", "must be at least 1");
        if (NumHiddenLayers < 1) yield return ("num_hidden_layers", "must be at least 1");
        if (NumAttentionHeads < 1) yield return ("num_attention_heads", "must be at least 1");
        else if (HiddenSize >= 1 && HiddenSize % NumAttentionHeads != 0)
            yield return ("num_attention_heads", $"hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}; choose a head count that divides it");
        if (NumAttentionHeads >= 1 && NumHiddenLayers >= 1)
            foreach (var problem in HeadPruning.Validate(PrunedHeads, NumHiddenLayers, NumAttentionHeads)) yield return problem;
        if (IntermediateSize < 1) yield return ("intermediate_size", "must be at least 1");
        if (HfActivation.Problem(HiddenAct) is { } badAct) yield return ("hidden_act", badAct);
        if (HiddenDropoutProb is < 0 or >= 1) yield return ("hidden_dropout_prob", "must be in [0, 1)");
        if (AttentionProbsDropoutProb is < 0 or >= 1) yield return ("attention_probs_dropout_prob", "must be in [0, 1)");
        if (ClassifierDropout is < 0 or >= 1) yield return ("classifier_dropout", "must be in [0, 1) or null (= hidden_dropout_prob)");
        if (MaxPositionEmbeddings < 1) yield return ("max_position_embeddings", "must be at least 1");
        if (TypeVocabSize < 1) yield return ("type_vocab_size", "must be at least 1");
        if (InitializerRange < 0) yield return ("initializer_range", "must be >= 0");
        if (!(LayerNormEps > 0)) yield return ("layer_norm_eps", "must be > 0");
        if (PadTokenId is { } pad && (pad < 0 || pad >= VocabSize))
            yield return ("pad_token_id", $"{pad} is outside the vocabulary [0, {VocabSize}); use a valid id or null");
        if (PositionEmbeddingType != "absolute")
            yield return ("position_embedding_type", $"'{PositionEmbeddingType}' is not supported; only 'absolute' is implemented");
        if (NumLabels is < 1) yield return ("num_labels", "must be at least 1");
        if (Id2Label is { } map)
        {
            if (NumLabels is { } n && n != map.Count)
                yield return ("id2label", $"has {map.Count} entries but num_labels is {n}; make them agree (or drop num_labels)");
            for (int i = 0; i < map.Count; i++)
                if (!map.ContainsKey(i.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                {
                    yield return ("id2label", $"keys must be the ids 0..{map.Count - 1}, but \"{i}\" is missing");
                    break;
                }
        }
        if (SequenceClassificationLoss.Problem(ProblemType) is { } badProblem) yield return ("problem_type", badProblem);
        if (IsDecoder) yield return ("is_decoder", "decoder (causal) BERT is not supported; set it to false");
        if (AddCrossAttention) yield return ("add_cross_attention", "cross-attention is not supported; set it to false");
    }

    /// <summary>Throws an <see cref="ArgumentException"/> listing every problem, prefixed by <paramref name="source"/>.</summary>
    public void ThrowIfInvalid(string source = "bert config")
    {
        var problems = Validate().ToList();
        if (problems.Count > 0)
            throw new ArgumentException($"{source}: " + string.Join("; ", problems.Select(p => $"{p.Key}: {p.Message}")));
    }

    private static readonly JsonSerializerOptions ReadOptions = new() { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>
    /// Reads a HuggingFace <c>config.json</c> (or the folder holding one) and validates it. Unknown keys are ignored.
    /// Errors name the file and the offending key.
    /// </summary>
    public static BertConfig Load(string path)
    {
        string file = Directory.Exists(path) ? System.IO.Path.Combine(path, "config.json") : path;
        if (!File.Exists(file))
            throw new FileNotFoundException($"{file}: no BERT config.json here; give the HF model folder or its config.json.", file);
        BertConfig? config;
        try { config = JsonSerializer.Deserialize<BertConfig>(File.ReadAllText(file), ReadOptions); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: invalid BERT config at {e.Path ?? "$"} (line {e.LineNumber + 1}): {e.Message}", e);
        }
        if (config is null) throw new InvalidDataException($"{file}: the file holds JSON null instead of a config object.");
        var problems = config.Validate().ToList();
        if (problems.Count > 0)
            throw new InvalidDataException($"{file}: " + string.Join("; ", problems.Select(p => $"key '{p.Key}' {p.Message}")));
        return config;
    }

    /// <summary>Writes the config as HF-style <c>config.json</c> (with <c>model_type: "bert"</c> and <c>label2id</c>; nulls omitted).</summary>
    public void Save(string path)
    {
        var options = new JsonSerializerOptions { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
        var node = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(this with { ModelType = "bert" }, options))!.AsObject();
        if (Id2Label is { } map)
        {
            var label2Id = new System.Text.Json.Nodes.JsonObject();
            foreach (var (id, name) in map) label2Id[name] = int.Parse(id, System.Globalization.CultureInfo.InvariantCulture);
            node["label2id"] = label2Id;
        }
        File.WriteAllText(path, node.ToJsonString(options));
    }
}
