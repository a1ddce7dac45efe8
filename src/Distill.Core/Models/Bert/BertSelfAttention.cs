using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>
/// Multi-head scaled dot-product self-attention (Vaswani et al. 2017) as in HF's eager <c>BertSelfAttention</c>:
/// scores = Q·Kᵀ / √head_dim + mask, where the additive mask is 0 for kept keys and the dtype's lowest finite value
/// (<c>torch.finfo(dtype).min</c>) for padded keys; probabilities = dropout(softmax(scores)); context = P·V with the
/// heads concatenated back to (B, T, heads·head_dim). Returns the context and the (post-dropout, as HF) probabilities
/// (B, heads, T, T). The layer's head count is <see cref="BertConfig.HeadsInLayer"/>: with HF's <c>pruned_heads</c> a
/// layer keeps fewer heads of the same width head_dim = hidden_size / num_attention_heads, so its projections are
/// D → heads·head_dim (HF's <c>prune_heads</c>). Parameter names: <c>query</c>, <c>key</c>, <c>value</c>.
/// </summary>
public sealed class BertSelfAttention : nn.Module<Tensor, Tensor?, (Tensor Context, Tensor Probs)>
{
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly SeededDropout dropout;
    private readonly int _heads;
    private readonly int _headDim;

    /// <param name="config">The model's config.</param>
    /// <param name="layer">Index of the encoder layer (selects its pruned heads).</param>
    public BertSelfAttention(BertConfig config, int layer) : base(nameof(BertSelfAttention))
    {
        _heads = config.HeadsInLayer(layer);
        _headDim = config.HeadDim;
        int width = _heads * _headDim;
        query = ParamInit.Redraw(nn.Linear(config.HiddenSize, width));
        key = ParamInit.Redraw(nn.Linear(config.HiddenSize, width));
        value = ParamInit.Redraw(nn.Linear(config.HiddenSize, width));
        dropout = new SeededDropout(config.AttentionProbsDropoutProb);
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, D)</param>
    /// <param name="extendedMask">Additive mask (B, 1, 1, T), or null for no masking.</param>
    public override (Tensor Context, Tensor Probs) forward(Tensor hidden, Tensor? extendedMask)
    {
        long b = hidden.shape[0], t = hidden.shape[1];
        // (B, T, D) -> (B, heads, T, head_dim) -> (B*heads, T, head_dim); bmm instead of matmul (no process abort on bad shapes).
        Tensor Split(Tensor x) => x.view(b, t, _heads, _headDim).permute(0, 2, 1, 3).reshape(b * _heads, t, _headDim);
        var q = Split(query.call(hidden));
        var k = Split(key.call(hidden));
        var v = Split(value.call(hidden));
        var scores = torch.bmm(q, k.transpose(1, 2)).view(b, _heads, t, t); // (B, heads, T, T)
        scores = scores / Math.Sqrt(_headDim);
        if (extendedMask is not null) scores = scores + extendedMask;
        var probs = dropout.call(nn.functional.softmax(scores, -1)); // (B, heads, T, T)
        var context = torch.bmm(probs.reshape(b * _heads, t, t), v) // (B*heads, T, head_dim)
            .view(b, _heads, t, _headDim).permute(0, 2, 1, 3).contiguous() // (B, T, heads, head_dim)
            .view(b, t, _heads * _headDim); // (B, T, heads·head_dim)
        return (context, probs);
    }
}
