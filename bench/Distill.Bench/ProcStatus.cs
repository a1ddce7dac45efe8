using System.Globalization;

namespace Distill.Bench;

/// <summary>Linux process and machine figures for the bench: VmRSS / VmHWM from /proc/self/status, load from /proc/loadavg.</summary>
public static class ProcStatus
{
    /// <summary>A <c>kB</c> field of /proc/self/status in MB (NaN where /proc is not available).</summary>
    public static double Mb(string field)
    {
        if (!File.Exists("/proc/self/status")) return double.NaN;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }

    /// <summary>1, 5 and 15-minute load averages.</summary>
    public static double[] LoadAverage() => File.Exists("/proc/loadavg")
        ? File.ReadAllText("/proc/loadavg").Split(' ').Take(3).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()
        : [double.NaN, double.NaN, double.NaN];

    public static string CpuModel() => File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
        : "?";
}
