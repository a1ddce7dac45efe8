using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>
/// Token embeddings of ViT: [CLS; patch embeddings] + learned absolute position embeddings, then dropout.
/// Paths: <c>cls_token</c> (1, 1, D), <c>position_embeddings</c> (1, N+1, D), <c>patch_embeddings.projection</c>.
/// Output (B, N+1, D) is HF's <c>hidden_states.0</c>.
/// </summary>
public sealed class ViTEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Parameter cls_token;
    private readonly Parameter position_embeddings;
    private readonly ViTPatchEmbeddings patch_embeddings;
    private readonly SeededDropout dropout;

    public ViTEmbeddings(ViTConfig config) : base("ViTEmbeddings")
    {
        patch_embeddings = new ViTPatchEmbeddings(config);
        cls_token = new Parameter(ParamInit.Randn(1, 1, config.HiddenSize));
        position_embeddings = new Parameter(ParamInit.Randn(1, patch_embeddings.NumPatches + 1, config.HiddenSize));
        dropout = new SeededDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>The CLS token parameter (1, 1, D).</summary>
    public Parameter ClsToken => cls_token;

    /// <summary>The position embedding parameter (1, N+1, D).</summary>
    public Parameter PositionEmbeddings => position_embeddings;

    public override Tensor forward(Tensor pixelValues)
    {
        var patches = patch_embeddings.call(pixelValues);                  // (B, N, D)
        var cls = cls_token.expand(patches.shape[0], -1, -1);               // (B, 1, D)
        var tokens = torch.cat([cls, patches], dim: 1);                     // (B, N+1, D)
        return dropout.call(tokens + position_embeddings);
    }
}
