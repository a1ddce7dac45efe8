using static TorchSharp.torch;

namespace Distill.Data;

/// <summary>One model input a dataset produces: its name, per-example shape (no batch dimension) and dtype.</summary>
public sealed record InputSpec(string Name, long[] Shape, ScalarType DType);
