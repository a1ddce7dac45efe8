using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>
/// The bare ViT encoder (HF <c>ViTModel</c>): embeddings → pre-norm encoder → final LayerNorm → optional pooler.
/// Reads <c>pixel_values</c> (B, num_channels, image_size, image_size); inputs are cast to the weights' dtype as HF does.
/// Paths: <c>embeddings</c>, <c>encoder.layer.{i}</c>, <c>layernorm</c>, <c>pooler</c> (only with a pooling layer),
/// so an HF ViTModel <c>model.safetensors</c> loads with no renaming.
/// </summary>
public sealed class ViTModel : nn.Module<Batch, ViTModelOutput>
{
    private readonly ViTEmbeddings embeddings;
    private readonly ViTEncoder encoder;
    private readonly LayerNorm layernorm;
    private readonly ViTPooler? pooler;

    /// <param name="config">A valid config (<see cref="ViTConfig.Validate"/>); invalid ones throw.</param>
    /// <param name="addPoolingLayer">HF's <c>add_pooling_layer</c>: true for ViTModel, false inside ViTForImageClassification.</param>
    /// <param name="initWeights">Apply HF's initialisation (false when the caller initialises, or loads weights anyway).</param>
    public ViTModel(ViTConfig config, bool addPoolingLayer = true, bool initWeights = true) : base("ViTModel")
    {
        var problems = config.Validate().ToList();
        if (problems.Count > 0)
            throw new ArgumentException("Invalid ViT config: " + string.Join("; ", problems.Select(p => $"{p.Key}: {p.Message}")) + ".");
        Config = config;
        embeddings = new ViTEmbeddings(config);
        encoder = new ViTEncoder(config);
        layernorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        if (addPoolingLayer) pooler = new ViTPooler(config);
        RegisterComponents();
        if (initWeights) ViTWeightInit.Apply(this, config.InitializerRange);
    }

    public ViTConfig Config { get; }

    /// <summary>When true, forward returns the attention probabilities of every layer.</summary>
    public bool OutputAttentions { get; set; }

    public bool HasPooler => pooler is not null;

    public ViTEmbeddings Embeddings => embeddings;

    public ViTEncoder Encoder => encoder;

    public override ViTModelOutput forward(Batch batch)
    {
        var pixelValues = batch["pixel_values"]; // (B, C, H, W)
        var weightType = embeddings.ClsToken.dtype;
        if (pixelValues.dtype != weightType) pixelValues = pixelValues.to_type(weightType);
        var encoded = encoder.call(embeddings.call(pixelValues), OutputAttentions);
        var sequence = layernorm.call(encoded.LastHiddenState); // (B, T, D)
        return new ViTModelOutput(sequence)
        {
            PoolerOutput = pooler?.call(sequence),
            HiddenStates = encoded.HiddenStates,
            Attentions = encoded.Attentions,
        };
    }
}
