using Distill.Compression.Artifact;
using Distill.Models;
using Distill.Models.OnnxGraph;
using Distill.Onnx.Export;
using static TorchSharp.torch;

namespace Distill.Compression.Quantization;

/// <summary>
/// The int8 form of a <c>quantize</c> stage's model for <see cref="OnnxExporter"/>: each recorded weight's codes, read
/// back from the model's folded weights with the stage's own grid (<see cref="LinearQuantParams.Quantize"/>) and
/// checked to decode to exactly those weights — so the codes are the ones the stage trained, not a re-quantization —
/// and each recorded activation range as a per-tensor uint8 grid. Codes are stored as uint8 with the grid's zero points
/// by default (symmetric grids: zero point 2^(b−1)): with uint8 activations ONNX Runtime then runs its u8u8 integer
/// kernels, exact on every x86 CPU, whereas u8s8 (int8 weights) sums pairs of products in int16 on AVX2 machines without
/// VNNI and saturates (ONNX Runtime's documented limitation; measured here: 85 % argmax agreement instead of 100 % on a
/// test BERT). <c>signedWeights</c> stores symmetric grids as int8 codes (code − 2^(b−1)) with zero point 0 instead,
/// for VNNI machines. Widths below 8 bits are stored in the int8 or
/// uint8 containers (their codes fit; the file is then as large as 8-bit's); activation grids below 8 bits are refused,
/// since QuantizeLinear saturates at 0..255, not at the 2^b − 1 levels the stage simulated.
/// </summary>
public static class OnnxInt8Export
{
    /// <summary>The integer weights and activation grids of <paramref name="record"/> for <paramref name="model"/>.</summary>
    /// <exception cref="OnnxExportException">A weight the model lacks, one off its recorded grid, or an unsupported width.</exception>
    /// <param name="record">The quantize stage's record.</param>
    /// <param name="model">The stage's model (weights folded onto the record's grids).</param>
    /// <param name="signedWeights">Store symmetric grids as int8 (zero point 0) rather than uint8 (zero point 2^(b−1)).</param>
    /// <param name="embeddingTables">Lookup tables to store as per-row 8-bit codes when the record has none for them
    /// (see <see cref="EmbeddingCodes"/>); null or empty = none.</param>
    public static OnnxQuantization From(QuantizationRecord record, DistillModel model, bool signedWeights = false, IEnumerable<string>? embeddingTables = null)
    {
        var state = model.state_dict();
        var weights = new Dictionary<string, OnnxWeightQuant>(StringComparer.Ordinal);
        foreach (var (name, grid) in record.Weights.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            if (grid.Bits is < 2 or > 8) throw new OnnxExportException($"Quantized weight '{name}': {grid.Bits}-bit codes have no int8 form; the int8 export takes 2 to 8 bits.");
            if (!state.TryGetValue(name, out var w)) throw new OnnxExportException($"The quantization record names '{name}', which the model does not have.");
            weights[name] = Codes(name, w, grid, signedWeights && grid.Symmetric);
        }
        var activations = new Dictionary<string, OnnxActivationQuant>(StringComparer.Ordinal);
        foreach (var a in record.Activations)
        {
            if (a.Bits != 8)
                throw new OnnxExportException($"Activation range of '{a.Module}' is {a.Bits}-bit; ONNX QuantizeLinear clamps to 8 bits only. Quantize activations at 8 bits, or export fp32.");
            var (scale, zp) = a.Grid();
            activations[a.Module] = new OnnxActivationQuant(scale, zp);
        }
        var tables = (embeddingTables ?? []).Where(t => !weights.ContainsKey(t)).ToList();
        return new OnnxQuantization(weights, activations) { Embeddings = EmbeddingCodes(model, tables) };
    }

    /// <summary>
    /// Lookup tables quantized at export, per row on an asymmetric 8-bit grid (<see cref="WeightQuantizer.Grid"/>: the
    /// row's range widened to include 0, scale = range / 255, uint8 codes): each looked-up vector is then off by at most
    /// half its row's scale. No stage trained these codes, so the ONNX model's embeddings differ from the float ones
    /// by that rounding; the proof report's argmax agreement shows what it costs.
    /// </summary>
    /// <exception cref="OnnxExportException">A table the model lacks, or one that is not 2-D.</exception>
    public static IReadOnlyDictionary<string, OnnxWeightQuant> EmbeddingCodes(DistillModel model, IEnumerable<string> tables)
    {
        var state = model.state_dict();
        var result = new Dictionary<string, OnnxWeightQuant>(StringComparer.Ordinal);
        foreach (string name in tables)
        {
            if (!state.TryGetValue(name, out var table)) throw new OnnxExportException($"Embedding table '{name}' is not a weight of the {model.Family} model.");
            if (table.dim() != 2) throw new OnnxExportException($"Embedding table '{name}' has shape [{string.Join(", ", table.shape)}]; a lookup table is 2-D.");
            var grid = WeightQuantizer.Grid(table, new QuantScheme(8, PerChannel: true, Symmetric: false));
            var values = table.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            int width = (int)table.shape[1];
            var codes = new int[values.Length];
            for (int i = 0; i < values.Length; i++) codes[i] = grid.Quantize(values[i], i / width);
            result[name] = new OnnxWeightQuant(8, Signed: false, codes, grid.Scales.ToArray(), grid.ZeroPoints.ToArray());
        }
        return result;
    }

    private static OnnxWeightQuant Codes(string name, Tensor weight, LinearQuantParams grid, bool signed)
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
            codes[i] = signed ? code - grid.ZeroPoints[c] : code;
        }
        if (offGrid > 0)
            throw new OnnxExportException($"Quantized weight '{name}': {offGrid} of {values.Length} values are not on the stage's recorded grid " +
                                          "(was the model changed after the quantize stage?). Export the quantize stage itself, or fp32.");
        var zeroPoints = signed ? new int[channels] : grid.ZeroPoints.ToArray();
        return new OnnxWeightQuant(grid.Bits, signed, codes, grid.Scales.ToArray(), zeroPoints);
    }
}
