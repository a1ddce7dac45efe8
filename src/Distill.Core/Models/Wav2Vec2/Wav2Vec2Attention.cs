using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// Multi-head self-attention as HF's Bart-style <c>Wav2Vec2Attention</c> (eager): q = q_proj(x)·d_head^−½, scores = q·kᵀ
/// plus the additive key mask (0 or dtype-min), softmax over keys, attention dropout, then out_proj.
/// Returns the output and, when asked, the probabilities (B, heads, T, T) before dropout (HF's <c>attentions</c>).
/// </summary>
public sealed class Wav2Vec2Attention : nn.Module<Tensor, Tensor?, bool, (Tensor Output, Tensor? Weights)>, IStochasticModule
{
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear q_proj;
    private readonly Linear out_proj;
    private readonly long _heads;
    private readonly long _headDim;
    private readonly double _scaling;
    private readonly double _dropout;

    public Wav2Vec2Attention(Wav2Vec2Config config) : base(nameof(Wav2Vec2Attention))
    {
        long d = config.HiddenSize;
        _heads = config.NumAttentionHeads;
        _headDim = d / _heads;
        if (_headDim * _heads != d)
            throw new ArgumentException($"wav2vec2 config: hidden_size {d} is not divisible by num_attention_heads {_heads}.");
        _scaling = Math.Pow(_headDim, -0.5);
        _dropout = config.AttentionDropout;
        k_proj = ParamInit.Redraw(nn.Linear(d, d));
        v_proj = ParamInit.Redraw(nn.Linear(d, d));
        q_proj = ParamInit.Redraw(nn.Linear(d, d));
        out_proj = ParamInit.Redraw(nn.Linear(d, d));
        foreach (var l in new[] { k_proj, v_proj, q_proj, out_proj }) Wav2Vec2Init.Linear(l, config.InitializerRange);
        RegisterComponents();
    }

    public Generator? Generator { get; set; }

    /// <param name="hidden">(B, T, D).</param>
    /// <param name="additiveMask">(B, 1, 1, T) or (B, 1, T, T): 0 for keys to attend, dtype-min for padding; null = none.</param>
    /// <param name="outputAttentions">Return the probabilities.</param>
    public override (Tensor Output, Tensor? Weights) forward(Tensor hidden, Tensor? additiveMask, bool outputAttentions)
    {
        long b = hidden.shape[0], t = hidden.shape[1], d = hidden.shape[2];
        Tensor Heads(Tensor x) => x.view(b, t, _heads, _headDim).transpose(1, 2).reshape(b * _heads, t, _headDim); // (B·H, T, hd)
        var q = Heads(q_proj.call(hidden) * _scaling);
        var k = Heads(k_proj.call(hidden));
        var v = Heads(v_proj.call(hidden));
        var scores = torch.bmm(q, k.transpose(1, 2)); // (B·H, T, T)
        if (additiveMask is not null)
        {
            if (additiveMask.dim() != 4 || additiveMask.shape[0] != b || additiveMask.shape[3] != t)
                throw new ArgumentException($"wav2vec2 attention: mask of shape ({string.Join(", ", additiveMask.shape)}) does not fit (B={b}, 1, T={t}, T={t}).");
            scores = (scores.view(b, _heads, t, t) + additiveMask).view(b * _heads, t, t);
        }
        var probs = scores.softmax(-1); // (B·H, T, T)
        Tensor? weights = outputAttentions ? probs.view(b, _heads, t, t) : null;
        var dropped = SeededDropout.Apply(probs, _dropout, training, Generator);
        var context = torch.bmm(dropped, v)            // (B·H, T, hd)
            .view(b, _heads, t, _headDim).transpose(1, 2) // (B, T, H, hd)
            .reshape(b, t, d);                           // (B, T, D)
        return (out_proj.call(context), weights);
    }
}
