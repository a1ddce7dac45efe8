namespace Distill.Checkpoints;

/// <summary>One tensor's entry in a safetensors header: dtype name (F32, F16, BF16, I64...), shape, and byte range within the data section.</summary>
public sealed record SafeTensorInfo(string Name, string DType, long[] Shape, long Begin, long End);
