namespace Distill.Models.OnnxGraph;

/// <summary>An asymmetric per-tensor 8-bit grid on the input of one module: q = clamp(round(x/scale) + zero_point, 0, 255).</summary>
public sealed record OnnxActivationQuant(float Scale, int ZeroPoint);
