using System.Runtime.InteropServices;

namespace Distill.Cli;

/// <summary>
/// glibc malloc settings for the whole process, set once at start-up. With glibc's defaults the mmap threshold is
/// dynamic: once a large block (a batch of activations) is freed, the threshold rises (up to 32 MiB), so later blocks of
/// that size come from the per-thread arenas (intra-op threads, the prefetch worker) and their freed memory stays in
/// the process. Measured (issue 17 investigation, bert-sst2 distill stage, batch 16): RSS swung between 540 and 1,016 MB
/// over 300 steps with the defaults, and stayed at 427–480 MB over 375 steps with a fixed 128 KiB mmap threshold and
/// trim threshold, while the live native tensors stayed constant in both (no leak) and the managed heap stayed under
/// 25 MB. A fixed threshold makes every block above 128 KiB its own mapping, returned to the system when freed.
/// <para>Opt-in (<c>DISTILL_MALLOC_TRIM=1</c>), because every such block then costs an mmap, page faults and an munmap:
/// measured on the idle 2-core machine, the quickstart took 77.5–84.0 s with the fixed 128 KiB thresholds against
/// 39.0 s with glibc's defaults (48.3 s with 4 MiB thresholds), the same results to the last digit.</para>
/// Other C libraries are left alone.
/// </summary>
internal static class NativeAllocator
{
    private const int M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3;
    private const int Threshold = 128 * 1024;

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int param, int value);

    public static void Configure()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("DISTILL_MALLOC_TRIM") != "1") return;
        // Variables set by the user win: glibc has already read them.
        if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null) return;
        try
        {
            Mallopt(M_MMAP_THRESHOLD, Threshold); // also turns off the dynamic adjustment
            Mallopt(M_TRIM_THRESHOLD, Threshold);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl has no mallopt): nothing to set.
        }
    }
}
