namespace Distill.Compression.Quantization;

/// <summary>One choice for one layer in <see cref="BitAllocation"/>: its bit width, the exact bytes its artifact record
/// would take without its name (the front-coded name's bytes do not depend on the width), and the measured loss
/// increase when only this layer is quantized so.</summary>
public sealed record BitOption(int Bits, long Bytes, double Sensitivity);
