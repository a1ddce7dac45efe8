using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>
/// Multi-head scaled dot-product self-attention (Vaswani et al. 2017): softmax(Q·Kᵀ / √d_head)·V per head, with dropout
/// on the probabilities, computed in HF's order (scores divided after the product). Paths: <c>query</c>, <c>key</c>,
/// <c>value</c>. Returns the context (B, T, heads·head_dim) and the attention probabilities after dropout
/// (B, heads, T, T), as HF does. The layer's head count is <see cref="ViTConfig.HeadsInLayer"/>: with HF's
/// <c>pruned_heads</c> a layer keeps fewer heads of the same width, so its projections are D → heads·head_dim.
/// </summary>
public sealed class ViTSelfAttention : nn.Module<Tensor, (Tensor Context, Tensor Probs)>
{
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly SeededDropout dropout;
    private readonly int _heads;
    private readonly int _headSize;

    /// <param name="config">The model's config.</param>
    /// <param name="layer">Index of the encoder layer (selects its pruned heads).</param>
    public ViTSelfAttention(ViTConfig config, int layer) : base("ViTSelfAttention")
    {
        if (config.HiddenSize % config.NumAttentionHeads != 0)
            throw new ArgumentException(
                $"ViT config: hidden_size {config.HiddenSize} is not a multiple of num_attention_heads {config.NumAttentionHeads}.");
        _heads = config.HeadsInLayer(layer);
        _headSize = config.HeadDim;
        int width = _heads * _headSize;
        query = ParamInit.Redraw(nn.Linear(config.HiddenSize, width, hasBias: config.QkvBias));
        key = ParamInit.Redraw(nn.Linear(config.HiddenSize, width, hasBias: config.QkvBias));
        value = ParamInit.Redraw(nn.Linear(config.HiddenSize, width, hasBias: config.QkvBias));
        dropout = new SeededDropout(config.AttentionProbsDropoutProb);
        RegisterComponents();
    }

    private Tensor SplitHeads(Tensor x) =>
        x.view(x.shape[0], x.shape[1], _heads, _headSize).permute(0, 2, 1, 3); // (B, T, heads·head_dim) → (B, heads, T, head_dim)

    public override (Tensor Context, Tensor Probs) forward(Tensor hidden)
    {
        long b = hidden.shape[0], t = hidden.shape[1];
        var q = SplitHeads(query.call(hidden));                                   // (B, heads, T, head_dim)
        var k = SplitHeads(key.call(hidden));                                     // (B, heads, T, head_dim)
        var v = SplitHeads(value.call(hidden));                                   // (B, heads, T, head_dim)
        var scores = torch.matmul(q, k.transpose(-1, -2)) / Math.Sqrt(_headSize); // (B, heads, T, T)
        var probs = dropout.call(nn.functional.softmax(scores, -1));              // (B, heads, T, T)
        var context = torch.matmul(probs, v)                                      // (B, heads, T, head_dim)
            .permute(0, 2, 1, 3).contiguous()                                     // (B, T, heads, head_dim)
            .view(b, t, _heads * _headSize);                                      // (B, T, heads·head_dim)
        return (context, probs);
    }
}
