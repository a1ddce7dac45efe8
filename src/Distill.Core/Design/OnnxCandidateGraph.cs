using Distill.Models;
using Distill.Models.Design;
using Distill.Models.OnnxGraph;
using Distill.Onnx.Export;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Design;

/// <summary>
/// A design candidate as the ONNX graph it would be served as (<see cref="OnnxExporter"/>, in memory): fp32, or int8
/// laid out as the int8 export writes a quantize stage's model — every Linear and Conv weight as per-channel symmetric 8-bit
/// codes (uint8, zero point 128) behind DequantizeLinear, every Linear and Conv input through a QuantizeLinear/DequantizeLinear
/// pair, the family's lookup tables as per-row asymmetric codes. A candidate is untrained, so its grids come from its
/// initial weights and the activation grids are nominal; neither changes the work of ONNX Runtime's kernels, which is
/// all a timing measures.
/// </summary>
public static class OnnxCandidateGraph
{
    public static byte[] Bytes(DistillModel model, OnnxPrecision precision)
    {
        if (precision == OnnxPrecision.Fp32) return OnnxExporter.ToBytes(model);
        var weights = new Dictionary<string, OnnxWeightQuant>(StringComparer.Ordinal);
        var activations = new Dictionary<string, OnnxActivationQuant>(StringComparer.Ordinal);
        using (no_grad())
            foreach (var (path, module) in model.named_modules())
            {
                Parameter? weight = module switch { Linear l => l.weight, Conv1d c => c.weight, Conv2d c => c.weight, _ => null };
                if (weight is null) continue;
                weights[path + ".weight"] = PerRow(weight, symmetric: true);
                activations[path] = new OnnxActivationQuant(Scale: 1f / 32, ZeroPoint: 128);
            }
        var export = OnnxExportRegistry.Default.Get(model.Family);
        var state = model.state_dict();
        var tables = export.EmbeddingTables(model).Where(t => !weights.ContainsKey(t)).ToDictionary(t => t, t => PerRow(state[t], symmetric: false), StringComparer.Ordinal);
        return OnnxExporter.ToBytes(model, new OnnxExportOptions { Quantization = new OnnxQuantization(weights, activations) { Embeddings = tables } });
    }

    /// <summary>8-bit codes with one scale per row (dimension 0), uint8: symmetric with zero point 128, or asymmetric over the row's range widened to 0.</summary>
    private static OnnxWeightQuant PerRow(Tensor weight, bool symmetric)
    {
        var w = weight.detach().to(ScalarType.Float32).cpu().contiguous();
        int rows = (int)w.shape[0];
        var values = w.data<float>().ToArray();
        int width = values.Length / rows;
        var scales = new float[rows];
        var zeroPoints = new int[rows];
        var codes = new int[values.Length];
        for (int r = 0; r < rows; r++)
        {
            var row = values.AsSpan(r * width, width);
            float lo = Math.Min(0, Min(row)), hi = Math.Max(0, Max(row));
            float range = symmetric ? 2 * Math.Max(-lo, hi) : hi - lo;
            scales[r] = range > 0 ? range / (symmetric ? 254 : 255) : 1f;
            zeroPoints[r] = symmetric ? 128 : Math.Clamp((int)MathF.Round(-lo / scales[r]), 0, 255);
            for (int i = 0; i < width; i++)
                codes[r * width + i] = Math.Clamp((int)MathF.Round(row[i] / scales[r]) + zeroPoints[r], symmetric ? 1 : 0, 255);
        }
        return new OnnxWeightQuant(8, Signed: false, codes, scales, zeroPoints);
    }

    private static float Min(ReadOnlySpan<float> v)
    {
        float m = float.PositiveInfinity;
        foreach (float x in v) m = Math.Min(m, x);
        return m;
    }

    private static float Max(ReadOnlySpan<float> v)
    {
        float m = float.NegativeInfinity;
        foreach (float x in v) m = Math.Max(m, x);
        return m;
    }
}
