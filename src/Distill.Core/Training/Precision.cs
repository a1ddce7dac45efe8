namespace Distill.Training;

/// <summary>
/// Numeric precision of training: <c>fp32</c>, <c>bf16</c> (models and float inputs in bfloat16, fp32 master weights in
/// the optimizer), or <c>auto</c> (bf16 where the CPU multiplies it natively, else fp32: <see cref="PrecisionChoice"/>).
/// </summary>
public enum Precision { Fp32, Bf16, Auto }
