namespace Distill.Caching;

/// <summary>
/// How the teacher-output cache stores floating-point values on disk.
/// <c>fp16</c>: IEEE half precision (2 bytes, ~3 significant digits, range ±65504) — enough for logits and features.
/// <c>int8</c>: symmetric per-row scaling, <c>q = round(x / s)</c> with <c>s = max|x| / 127</c> per row (1 byte per value plus
/// a float32 scale per row; error ≤ s/2). <c>fp32</c>: exact, 4 bytes (for checks and tiny models).
/// </summary>
public enum CacheEncoding
{
    Fp16,
    Int8,
    Fp32,
}
