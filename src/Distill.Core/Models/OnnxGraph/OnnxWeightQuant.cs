namespace Distill.Models.OnnxGraph;

/// <summary>
/// The integer form of one weight for the int8 export, as plain arrays (the quantization stage's records are converted
/// to this by the compression layer): value = scale_c · (code − zero_point_c), channels along dimension 0 of the
/// weight as the model stores it (a Linear's output rows, a conv's output channels), or one channel for per-tensor.
/// </summary>
/// <param name="Bits">The width the codes were trained at (2..8); below 8 the codes are stored in int8/uint8 containers.</param>
/// <param name="Signed">True for symmetric grids: <paramref name="Codes"/> are int8 with zero point 0.</param>
/// <param name="Codes">One code per element in the weight's own (row-major) layout: int8 when signed, else uint8 in 0..255.</param>
/// <param name="Scales">One scale per channel (or one).</param>
/// <param name="ZeroPoints">One zero point per channel (or one), in the codes' domain (0 when signed).</param>
public sealed record OnnxWeightQuant(int Bits, bool Signed, int[] Codes, float[] Scales, int[] ZeroPoints);
