using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// A grouped Conv1d whose weight is weight-normalised over dim 2 (Salimans &amp; Kingma 2016, "Weight
/// Normalization"), stored as PyTorch's legacy <c>weight_norm</c> does: <c>weight_g</c> (1, 1, K) and
/// <c>weight_v</c> (C_out, C_in/groups, K). Effective weight w[:, :, k] = v[:, :, k] · g[k] / ‖v[:, :, k]‖₂, the norm
/// taken over dims 0 and 1 for each kernel position. Checkpoints written with torch ≥ 2.1 name the same tensors
/// <c>parametrizations.weight.original0</c> / <c>original1</c>; <see cref="Wav2Vec2StateDict.Normalize"/> maps them.
/// </summary>
public sealed class Wav2Vec2WeightNormConv1d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight_g;
    private readonly Parameter weight_v;
    private readonly Parameter bias;
    private readonly long _padding;
    private readonly long _groups;

    public Wav2Vec2WeightNormConv1d(long channels, long kernel, long groups, long padding) : base(nameof(Wav2Vec2WeightNormConv1d))
    {
        _padding = padding;
        _groups = groups;
        // HF init: weight ~ N(0, (2·√(1/(K·C_in)))²), bias 0; weight_norm then sets g = ‖v‖ so that w = v initially.
        double std = 2.0 * Math.Sqrt(1.0 / (kernel * channels));
        var v = ParamInit.Randn(channels, channels / groups, kernel) * std;
        var g = Norm(v);
        weight_v = new Parameter(v); // takes over v's native handle
        weight_g = new Parameter(g);
        bias = new Parameter(torch.zeros(channels));
        RegisterComponents();
    }

    /// <summary>‖v‖₂ over dims 0 and 1 per kernel position: (C_out, C_in/g, K) → (1, 1, K).</summary>
    private static Tensor Norm(Tensor v) => v.pow(2).sum(new long[] { 0, 1 }, keepdim: true).sqrt();

    /// <summary>The effective convolution weight v · (g / ‖v‖).</summary>
    public Tensor Weight() => weight_v * (weight_g / Norm(weight_v));

    /// <summary>(B, C, T) → (B, C, T + 2·padding − K + 1).</summary>
    public override Tensor forward(Tensor x) =>
        nn.functional.conv1d(x, Weight(), bias, stride: 1, padding: _padding, dilation: 1, groups: _groups);
}
