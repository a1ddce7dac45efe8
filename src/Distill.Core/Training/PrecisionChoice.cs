namespace Distill.Training;

/// <summary>
/// What <c>train.precision</c> means on this machine. <c>auto</c> is bf16 on a CPU that multiplies bf16 natively
/// (<see cref="CpuBf16Support.Native"/>: avx512_bf16 or amx_bf16 in /proc/cpuinfo), fp32 everywhere else: on a CPU
/// without those flags (bf16 is emulated there and slower than fp32), where the flags cannot be read, and on CUDA devices
/// (set bf16 explicitly there). An explicit <c>bf16</c> on such a CPU is kept but warned about (<see cref="Warning"/>).
/// </summary>
public static class PrecisionChoice
{
    /// <summary>The precision training runs in: <paramref name="requested"/> itself unless it is <see cref="Precision.Auto"/>.</summary>
    public static Precision Resolve(Precision requested, bool onCpu, CpuBf16Support cpu) => requested switch
    {
        Precision.Auto => onCpu && cpu.Native ? Precision.Bf16 : Precision.Fp32,
        _ => requested,
    };

    /// <summary>
    /// The warning for <c>bf16</c> on a CPU without native bf16 (<paramref name="keyPath"/> names the recipe key), or
    /// null when there is nothing to warn about (fp32, auto, a CUDA device, native flags, or flags that cannot be read).
    /// </summary>
    public static string? Warning(Precision requested, bool onCpu, CpuBf16Support cpu, string keyPath)
    {
        if (requested != Precision.Bf16 || !onCpu || !cpu.Known || cpu.Native) return null;
        return $"{keyPath}: bf16 on this CPU, whose flags (/proc/cpuinfo) list neither {string.Join(" nor ", CpuBf16Support.NativeFlags)}: " +
               $"its bf16 matmuls are emulated through fp32 and typically about 10x slower than fp32 (issue 17 measured " +
               $"{CpuBf16Support.MeasuredSlowdown:0.0}x on such a CPU). Use precision: fp32, or auto (which picks fp32 here and bf16 where it is native).";
    }
}
