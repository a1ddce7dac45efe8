namespace Distill.Models.OnnxGraph;

/// <summary>
/// What the int8 export writes as integers: weights by state-dict key (stored as int8/uint8 initializers behind
/// <c>DequantizeLinear</c>), and the inputs of modules by module path (a <c>QuantizeLinear</c> → <c>DequantizeLinear</c>
/// pair with the recorded range, so ONNX Runtime can run the integer kernels). Empty means fp32.
/// </summary>
public sealed record OnnxQuantization(IReadOnlyDictionary<string, OnnxWeightQuant> Weights, IReadOnlyDictionary<string, OnnxActivationQuant> Activations)
{
    public static OnnxQuantization None { get; } = new(new Dictionary<string, OnnxWeightQuant>(), new Dictionary<string, OnnxActivationQuant>());

    public bool IsEmpty => Weights.Count == 0 && Activations.Count == 0;
}
