using Distill.Compression.Artifact;
using Distill.Models;
using Distill.Onnx.Export;
using static TorchSharp.torch;

namespace Distill.Compression.Quantization;

/// <summary>
/// The int8 form of a <c>quantize</c> stage's model for <see cref="OnnxExporter"/>: each recorded weight's codes, read
/// back from the model's folded weights with the stage's own grid (<see cref="LinearQuantParams.Quantize"/>) and
/// checked to decode to exactly those weights — so the codes are the ones the stage trained, not a re-quantization —
/// and each recorded activation range as a per-tensor uint8 grid. Symmetric grids become int8 codes with zero point 0
/// (code − 2^(b−1)), asymmetric ones uint8 codes with their zero points. Widths below 8 bits are stored in the int8 or
/// uint8 containers (their codes fit; the file is then as large as 8-bit's); activation grids below 8 bits are refused,
/// since QuantizeLinear saturates at 0..255, not at the 2^b − 1 levels the stage simulated.
/// </summary>
public static class OnnxInt8Export
{
    /// <summary>The integer weights and activation grids of <paramref name="record"/> for <paramref name="model"/>.</summary>
    /// <exception cref="OnnxExportException">A weight the model lacks, one off its recorded grid, or an unsupported width.</exception>
    public static OnnxQuantization From(QuantizationRecord record, DistillModel model)
    {
        var state = model.state_dict();
        var weights = new Dictionary<string, OnnxWeightQuant>(StringComparer.Ordinal);
        foreach (var (name, grid) in record.Weights.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            if (grid.Bits is < 2 or > 8) throw new OnnxExportException($"Quantized weight '{name}': {grid.Bits}-bit codes have no int8 form; the int8 export takes 2 to 8 bits.");
            if (!state.TryGetValue(name, out var w)) throw new OnnxExportException($"The quantization record names '{name}', which the model does not have.");
            weights[name] = Codes(name, w, grid);
        }
        var activations = new Dictionary<string, OnnxActivationQuant>(StringComparer.Ordinal);
        foreach (var a in record.Activations)
        {
            if (a.Bits != 8)
                throw new OnnxExportException($"Activation range of '{a.Module}' is {a.Bits}-bit; ONNX QuantizeLinear clamps to 8 bits only. Quantize activations at 8 bits, or export fp32.");
            var (scale, zp) = a.Grid();
            activations[a.Module] = new OnnxActivationQuant(scale, zp);
        }
        return new OnnxQuantization(weights, activations);
    }

    private static OnnxWeightQuant Codes(string name, Tensor weight, LinearQuantParams grid)
    {
        var values = weight.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        int channels = grid.Scales.Length;
        if (grid.PerChannel && channels != weight.shape[0] || !grid.PerChannel && channels != 1)
            throw new OnnxExportException($"Quantized weight '{name}': {channels} scales for a tensor with {weight.shape[0]} rows.");
        int perChannel = values.Length / channels;
        var codes = new int[values.Length];
        int offGrid = 0;
        for (int i = 0; i < values.Length; i++)
        {
            int c = i / perChannel;
            int code = grid.Quantize(values[i], c);
            if (grid.Dequantize(code, c) != values[i]) offGrid++;
            codes[i] = grid.Symmetric ? code - grid.ZeroPoints[c] : code;
        }
        if (offGrid > 0)
            throw new OnnxExportException($"Quantized weight '{name}': {offGrid} of {values.Length} values are not on the stage's recorded grid " +
                                          "(was the model changed after the quantize stage?). Export the quantize stage itself, or fp32.");
        var zeroPoints = grid.Symmetric ? new int[channels] : grid.ZeroPoints.ToArray();
        return new OnnxWeightQuant(grid.Bits, grid.Symmetric, codes, grid.Scales.ToArray(), zeroPoints);
    }
}
