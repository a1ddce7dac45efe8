namespace Distill.Training;

/// <summary>Numeric precision of training: <c>fp32</c>, or <c>bf16</c> (models and float inputs in bfloat16, fp32 master weights in the optimizer).</summary>
public enum Precision { Fp32, Bf16 }
