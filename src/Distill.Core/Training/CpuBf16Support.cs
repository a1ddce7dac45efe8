namespace Distill.Training;

/// <summary>
/// Whether this CPU multiplies bfloat16 natively, read from the <c>flags</c> lines of <c>/proc/cpuinfo</c>: the flags
/// of <see cref="NativeFlags"/> it lists (<see cref="Flags"/>), or <see cref="Known"/> false where the file could not be
/// read (not Linux). Without one of them, oneDNN/ATen run bf16 matmuls through conversions to fp32, slower than fp32 itself.
/// </summary>
public sealed record CpuBf16Support(bool Known, IReadOnlyList<string> Flags)
{
    /// <summary>The CPU flags of native bf16 arithmetic: AVX512-BF16 (dot products) and AMX-BF16 (tile matmuls).</summary>
    public static readonly IReadOnlyList<string> NativeFlags = ["avx512_bf16", "amx_bf16"];

    /// <summary>The measurement (issue 17, an AVX2/FMA CPU without AVX-512): bf16 KD steps 1083 ms vs fp32 97 ms.</summary>
    public const double MeasuredSlowdown = 11.2;

    public bool Native => Flags.Count > 0;

    /// <summary>Parses <c>/proc/cpuinfo</c> text (null = unreadable); a flag counts when any processor's flags line lists it.</summary>
    public static CpuBf16Support Parse(string? cpuinfo)
    {
        if (cpuinfo is null) return new CpuBf16Support(false, []);
        var listed = new HashSet<string>(StringComparer.Ordinal);
        bool sawFlags = false;
        foreach (var line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0 || line[..colon].Trim() is not ("flags" or "Features")) continue; // Features: the ARM spelling
            sawFlags = true;
            foreach (var flag in line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) listed.Add(flag);
        }
        return new CpuBf16Support(sawFlags, NativeFlags.Where(listed.Contains).ToList());
    }

    private static readonly Lazy<CpuBf16Support> Machine = new(() =>
    {
        try { return Parse(File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : null); }
        catch (IOException) { return Parse(null); }
        catch (UnauthorizedAccessException) { return Parse(null); }
    });

    /// <summary>This machine's CPU (read once).</summary>
    public static CpuBf16Support ThisMachine => Machine.Value;
}
