namespace Distill.Models.OnnxGraph;

/// <summary>
/// What the int8 export writes as integers: weights by state-dict key (stored as int8/uint8 initializers behind
/// <c>DequantizeLinear</c>), and the inputs of modules by module path (a <c>QuantizeLinear</c> → <c>DequantizeLinear</c>
/// pair with the recorded range, so ONNX Runtime can run the integer kernels), and lookup tables quantized at export
/// (<see cref="Embeddings"/>). Empty means fp32.
/// </summary>
public sealed record OnnxQuantization(IReadOnlyDictionary<string, OnnxWeightQuant> Weights, IReadOnlyDictionary<string, OnnxActivationQuant> Activations)
{
    public static OnnxQuantization None { get; } = new(new Dictionary<string, OnnxWeightQuant>(), new Dictionary<string, OnnxActivationQuant>());

    /// <summary>
    /// Embedding tables (by state-dict key) that no stage quantized, stored as per-row 8-bit codes: a lookup gathers
    /// the rows' codes and dequantizes only those (the table of a BERT is most of its bytes, and almost none of its
    /// compute). Tables a stage did quantize are in <see cref="Weights"/> and are looked up the same way.
    /// </summary>
    public IReadOnlyDictionary<string, OnnxWeightQuant> Embeddings { get; init; } = new Dictionary<string, OnnxWeightQuant>();

    public bool IsEmpty => Weights.Count == 0 && Activations.Count == 0 && Embeddings.Count == 0;

    /// <summary>The integer form of <paramref name="key"/>: a stage's codes first, else export-time embedding codes.</summary>
    public OnnxWeightQuant? For(string key) =>
        Weights.TryGetValue(key, out var w) ? w : Embeddings.TryGetValue(key, out var e) ? e : null;
}
