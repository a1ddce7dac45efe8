using System.Diagnostics;
using System.Text.Json.Serialization;

namespace Distill.Onnx.Runtime;

/// <summary>
/// p50 / p90 of one forward pass in ONNX Runtime and in TorchSharp eager on the same batch, timed alternately (run r of
/// one, then run r of the other, so a neighbour's load falls on both alike) after untimed warm-up runs of each.
/// </summary>
public sealed record LatencyPair
{
    [JsonPropertyName("ort_p50_ms")] public required double OrtP50Ms { get; init; }
    [JsonPropertyName("ort_p90_ms")] public required double OrtP90Ms { get; init; }
    [JsonPropertyName("torch_p50_ms")] public required double TorchP50Ms { get; init; }
    [JsonPropertyName("torch_p90_ms")] public required double TorchP90Ms { get; init; }
    [JsonPropertyName("timed_runs")] public required int TimedRuns { get; init; }
    [JsonPropertyName("warmup_runs")] public required int WarmupRuns { get; init; }

    /// <summary>Times <paramref name="ort"/> and <paramref name="torch"/> alternately: <paramref name="warmup"/> untimed runs of each, then <paramref name="runs"/> timed ones.</summary>
    public static LatencyPair Measure(Action ort, Action torch, int warmup, int runs)
    {
        if (runs < 1) throw new ArgumentOutOfRangeException(nameof(runs), runs, "at least one timed run");
        for (int i = 0; i < warmup; i++)
        {
            ort();
            torch();
        }
        var o = new double[runs];
        var t = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            long start = Stopwatch.GetTimestamp();
            ort();
            o[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            start = Stopwatch.GetTimestamp();
            torch();
            t[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return new LatencyPair
        {
            OrtP50Ms = Percentile(o, 0.5), OrtP90Ms = Percentile(o, 0.9), TorchP50Ms = Percentile(t, 0.5), TorchP90Ms = Percentile(t, 0.9),
            TimedRuns = runs, WarmupRuns = warmup,
        };
    }

    /// <summary>Linear interpolation between order statistics (numpy's default).</summary>
    public static double Percentile(double[] samples, double q)
    {
        var s = samples.Order().ToArray();
        double pos = q * (s.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }
}
