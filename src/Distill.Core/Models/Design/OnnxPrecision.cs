namespace Distill.Models.Design;

/// <summary>The precision of the ONNX graphs timed under <see cref="DeploymentRuntime.Onnxruntime"/>.</summary>
public enum OnnxPrecision
{
    Fp32,

    /// <summary>
    /// As the int8 export writes a quantize stage's model: per-channel 8-bit weights and 8-bit grids on the inputs of
    /// Linear layers (QDQ, so ONNX Runtime runs its integer kernels), embedding tables as per-row codes. The grids are
    /// nominal (the values do not change the cost of the kernels).
    /// </summary>
    Int8,
}
