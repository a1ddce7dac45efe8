using Distill.Compression.Artifact;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Quantization;

/// <summary>
/// Uniform weight quantization (Jacob et al. 2018; Krishnamoorthi 2018). The grid follows the weights' current range
/// (a min/max observer): symmetric: scale_c = max|w_c| / (2^(b−1) − 1), zero point 2^(b−1); asymmetric:
/// scale_c = (max(w_c, 0) − min(w_c, 0)) / (2^b − 1), zero point round(−min/scale) — both ranges include 0, so 0 is
/// exact and pruned weights stay zero. Fake quantization is q(w) = scale · (clamp(round(w/scale) + zp) − zp) in
/// float32, the same expression <see cref="LinearQuantParams.Dequantize"/> decodes artifacts with, so folded weights
/// and artifact round trips agree bit for bit. Its error per entry is at most scale/2 inside the range.
/// </summary>
public static class WeightQuantizer
{
    /// <summary>The grid of <paramref name="weight"/> under <paramref name="scheme"/> (channels along dimension 0).</summary>
    public static LinearQuantParams Grid(Tensor weight, QuantScheme scheme)
    {
        if (scheme.Bits is < 2 or > 8) throw new ArgumentOutOfRangeException(nameof(scheme), scheme.Bits, "linear weight quantization supports 2..8 bits");
        using var scope = torch.NewDisposeScope();
        var w = weight.detach().to(ScalarType.Float32).cpu();
        var rows = scheme.PerChannel && w.dim() >= 1 ? w.reshape(w.shape[0], -1) : w.reshape(1, -1); // (C, K)
        int channels = (int)rows.shape[0];
        var scales = new float[channels];
        var zps = new int[channels];
        if (scheme.Symmetric)
        {
            int qmax = (1 << (scheme.Bits - 1)) - 1;
            var maxAbs = rows.abs().amax([1]).data<float>().ToArray();
            for (int c = 0; c < channels; c++)
            {
                scales[c] = maxAbs[c] > 0 ? maxAbs[c] / qmax : 1f;
                if (scheme.CompactScales) scales[c] = CompactScale(scales[c]);
                zps[c] = 1 << (scheme.Bits - 1);
            }
        }
        else
        {
            int levels = (1 << scheme.Bits) - 1;
            var min = rows.amin([1]).clamp_max(0).data<float>().ToArray();
            var max = rows.amax([1]).clamp_min(0).data<float>().ToArray();
            for (int c = 0; c < channels; c++)
            {
                float range = max[c] - min[c];
                scales[c] = range > 0 ? range / levels : 1f;
                if (scheme.CompactScales) scales[c] = CompactScale(scales[c]);
                zps[c] = Math.Clamp((int)MathF.Round(-min[c] / scales[c], MidpointRounding.ToEven), 0, levels);
            }
        }
        return new LinearQuantParams(scheme.Bits, scheme.PerChannel, scheme.Symmetric, scales, zps);
    }

    /// <summary>The smallest power of 2^(1/16) (as float32) that is at least <paramref name="scale"/>: the compact scale
    /// of <see cref="QuantScheme.CompactScales"/>. Only the exponent k of 2^(k/16) varies between channels, so the
    /// scales of a tensor take few distinct values.</summary>
    public static float CompactScale(float scale)
    {
        if (!(scale > 0) || !float.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "a scale is positive and finite");
        int k = (int)Math.Ceiling(Math.Log2(scale) * QuantScheme.ScaleStepsPerOctave);
        float snapped = QuantScheme.ExponentScale(k);
        // float32 rounding of 2^(k/16) may land just below the scale; move to the next step then.
        return snapped >= scale ? snapped : QuantScheme.ExponentScale(k + 1);
    }

    /// <summary>q(w) on <paramref name="grid"/>: same shape and dtype as <paramref name="weight"/>, no gradient.</summary>
    public static Tensor FakeQuantize(Tensor weight, LinearQuantParams grid)
    {
        using var scope = torch.NewDisposeScope();
        var w = weight.detach().to(ScalarType.Float32);
        long channels = grid.Scales.Length;
        var shape = new long[w.dim()];
        Array.Fill(shape, 1L);
        if (grid.PerChannel) shape[0] = channels;
        var scale = torch.tensor(grid.Scales, device: w.device).view(shape);
        var zp = torch.tensor(grid.ZeroPoints.Select(z => (float)z).ToArray(), device: w.device).view(shape);
        var code = (w / scale).round_().add_(zp).clamp_(grid.Symmetric ? 1 : 0, grid.MaxCode);
        var q = scale * (code - zp);
        return q.to(weight.dtype).MoveToOuterDisposeScope();
    }
}
