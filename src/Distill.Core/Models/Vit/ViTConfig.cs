using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Distill.Models.Hf;

namespace Distill.Models.Vit;

/// <summary>
/// Configuration of the Vision Transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words"), mirroring
/// HuggingFace transformers 4.40's <c>ViTConfig</c> key for key, with HF's defaults (ViT-Base/16 at 224 px), so that
/// an HF <c>config.json</c> and a recipe's <c>config:</c> section describe the same model.
/// Every key that changes the math is honoured; <c>encoder_stride</c> only matters to HF's masked-image-modelling head
/// and is kept for round-tripping. <c>num_labels</c> follows HF: when absent, it is the size of <c>id2label</c> (else 2).
/// </summary>
public sealed record ViTConfig : ITransformerEncoderConfig
{
    /// <summary>Width D of every token.</summary>
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 768;

    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;

    /// <summary>Heads per layer; head dim = hidden_size / num_attention_heads.</summary>
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 12;

    /// <summary>Width of the feed-forward block.</summary>
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 3072;

    /// <summary>Feed-forward activation, one of <see cref="HfActivation.Names"/>.</summary>
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "gelu";

    /// <summary>Dropout after the embeddings, the attention output projection and the feed-forward output.</summary>
    [JsonPropertyName("hidden_dropout_prob")] public double HiddenDropoutProb { get; init; }

    /// <summary>Dropout on the attention probabilities.</summary>
    [JsonPropertyName("attention_probs_dropout_prob")] public double AttentionProbsDropoutProb { get; init; }

    /// <summary>Std of the truncated-normal initialisation (HF <c>_init_weights</c>) of fresh models.</summary>
    [JsonPropertyName("initializer_range")] public double InitializerRange { get; init; } = 0.02;

    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-12;

    /// <summary>Square input side in pixels; inputs must have exactly this size (no position-embedding interpolation).</summary>
    [JsonPropertyName("image_size")] public int ImageSize { get; init; } = 224;

    /// <summary>Square patch side; image_size must be a multiple of it. Tokens = (image_size / patch_size)² + 1 (CLS).</summary>
    [JsonPropertyName("patch_size")] public int PatchSize { get; init; } = 16;

    [JsonPropertyName("num_channels")] public int NumChannels { get; init; } = 3;

    /// <summary>Whether the query, key and value projections have biases.</summary>
    [JsonPropertyName("qkv_bias")] public bool QkvBias { get; init; } = true;

    /// <summary>Used only by HF's masked-image-modelling decoder; no effect on classification.</summary>
    [JsonPropertyName("encoder_stride")] public int EncoderStride { get; init; } = 16;

    /// <summary>Width of the classifier (1 = regression).</summary>
    [JsonPropertyName("num_labels")] public int NumLabels { get; init; } = 2;

    /// <summary>Class names by id ("0", "1", ...); optional. When given, it must have num_labels entries.</summary>
    [JsonPropertyName("id2label")] public Dictionary<string, string>? Id2Label { get; init; }

    [JsonPropertyName("label2id")] public Dictionary<string, int>? Label2Id { get; init; }

    /// <summary>
    /// HF's loss selector: <c>regression</c> (MSE), <c>single_label_classification</c> (cross-entropy),
    /// <c>multi_label_classification</c> (BCE with logits); null infers it per batch as HF does.
    /// </summary>
    [JsonPropertyName("problem_type")] public string? ProblemType { get; init; }

    /// <summary>HF's <c>pruned_heads</c>: per encoder layer (key = layer index as a string), the ORIGINAL indices of the
    /// attention heads removed from it, e.g. <c>{"0": [1, 3]}</c>. Null or empty = none. Layer i then has
    /// <see cref="HeadsInLayer"/> heads of hidden_size / num_attention_heads each (see <see cref="HeadPruning"/>).</summary>
    [JsonPropertyName("pruned_heads")] public Dictionary<string, List<int>>? PrunedHeads { get; init; }

    /// <summary>Attention heads of encoder layer <paramref name="layer"/>: num_attention_heads minus its pruned heads.</summary>
    public int HeadsInLayer(int layer) => HeadPruning.HeadsIn(PrunedHeads, layer, NumAttentionHeads);

    bool ITransformerEncoderConfig.CanPruneHeads => true;

    ITransformerEncoderConfig ITransformerEncoderConfig.WithEncoder(int layers, int hiddenSize, int heads, int intermediateSize, Dictionary<string, List<int>>? prunedHeads) =>
        this with { NumHiddenLayers = layers, HiddenSize = hiddenSize, NumAttentionHeads = heads, IntermediateSize = intermediateSize, PrunedHeads = prunedHeads };

    /// <summary>Width of one attention head: hidden_size / num_attention_heads (unchanged by head pruning).</summary>
    [JsonIgnore] public int HeadDim => NumAttentionHeads > 0 ? HiddenSize / NumAttentionHeads : 0;

    /// <summary>Patches per side.</summary>
    [JsonIgnore] public int PatchesPerSide => PatchSize > 0 ? ImageSize / PatchSize : 0;

    /// <summary>Sequence length: patches plus the CLS token.</summary>
    [JsonIgnore] public int SequenceLength => PatchesPerSide * PatchesPerSide + 1;

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (HiddenSize < 1) yield return ("hidden_size", "must be at least 1");
        if (NumHiddenLayers < 0) yield return ("num_hidden_layers", "must be at least 0");
        if (NumAttentionHeads < 1) yield return ("num_attention_heads", "must be at least 1");
        else if (HiddenSize >= 1 && HiddenSize % NumAttentionHeads != 0)
            yield return ("num_attention_heads", $"hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}; choose a head count that divides it");
        if (NumAttentionHeads >= 1)
            foreach (var problem in HeadPruning.Validate(PrunedHeads, Math.Max(0, NumHiddenLayers), NumAttentionHeads)) yield return problem;
        if (IntermediateSize < 1) yield return ("intermediate_size", "must be at least 1");
        if (HfActivation.Problem(HiddenAct) is { } badAct) yield return ("hidden_act", badAct);
        if (HiddenDropoutProb is < 0 or >= 1) yield return ("hidden_dropout_prob", "must be in [0, 1)");
        if (AttentionProbsDropoutProb is < 0 or >= 1) yield return ("attention_probs_dropout_prob", "must be in [0, 1)");
        if (InitializerRange < 0) yield return ("initializer_range", "must be >= 0");
        if (!(LayerNormEps > 0)) yield return ("layer_norm_eps", "must be > 0");
        if (NumChannels < 1) yield return ("num_channels", "must be at least 1");
        if (PatchSize < 1) yield return ("patch_size", "must be at least 1");
        if (ImageSize < 1) yield return ("image_size", "must be at least 1");
        else if (PatchSize >= 1 && (ImageSize % PatchSize != 0 || ImageSize < PatchSize))
            yield return ("image_size", $"{ImageSize} px is not a multiple of patch_size {PatchSize}; the patch grid must tile the image exactly");
        if (EncoderStride < 1) yield return ("encoder_stride", "must be at least 1");
        if (NumLabels < 1) yield return ("num_labels", "must be at least 1 (1 = regression)");
        if (Id2Label is { } id2label)
        {
            if (id2label.Count != NumLabels)
                yield return ("id2label", $"has {id2label.Count} entries but num_labels is {NumLabels}; make them agree");
            foreach (var key in id2label.Keys)
                if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int id) || id >= NumLabels)
                    yield return ("id2label", $"key '{key}' is not a label id in 0..{NumLabels - 1}");
        }
        if (Label2Id is { } label2id && label2id.Count != NumLabels)
            yield return ("label2id", $"has {label2id.Count} entries but num_labels is {NumLabels}; make them agree");
        if (SequenceClassificationLoss.Problem(ProblemType) is { } badProblem) yield return ("problem_type", badProblem);
    }

    /// <summary>
    /// Reads an HF <c>config.json</c> (keys this record does not model, such as <c>architectures</c> or
    /// <c>transformers_version</c>, are ignored). Throws <see cref="InvalidDataException"/> naming the file and key when
    /// the file is not a valid ViT config.
    /// </summary>
    public static ViTConfig Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FileNotFoundException($"{path}: cannot read the ViT config.json ({e.Message}).", path, e);
        }
        ViTConfig config;
        bool hasNumLabels;
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: a config.json must be a JSON object.");
            if (doc.RootElement.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String && mt.GetString() != "vit")
                throw new InvalidDataException($"{path}: model_type is '{mt.GetString()}', not 'vit'; this folder holds a different architecture.");
            hasNumLabels = doc.RootElement.TryGetProperty("num_labels", out _);
            config = doc.RootElement.Deserialize<ViTConfig>()
                ?? throw new InvalidDataException($"{path}: the file holds JSON null, not a ViT config.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid ViT config at '{e.Path}': {e.Message}", e);
        }
        if (!hasNumLabels && config.Id2Label is { Count: > 0 } labels) config = config with { NumLabels = labels.Count };
        var problems = config.Validate().ToList();
        if (problems.Count > 0)
            throw new InvalidDataException($"{path}: invalid ViT config: " + string.Join("; ", problems.Select(p => $"{p.Key}: {p.Message}")) + ".");
        return config;
    }
}
