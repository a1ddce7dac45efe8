using System.Diagnostics;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Design;

/// <summary>
/// Times a model's forward pass the way it will serve: eval mode under <c>torch.inference_mode()</c>, a fixed number
/// of intra-op threads (<c>torch.set_num_threads</c>, restored afterwards), <c>warmup</c> untimed passes (allocator and
/// kernel selection settle), then <c>repeats</c> timed samples with a <see cref="Stopwatch"/>. A pass shorter than
/// <c>minSampleMs</c> is looped inside a sample (the count is calibrated on the warm-up) so timer resolution and call
/// overhead do not dominate; each sample is divided by its pass count. On CUDA the device is synchronised before the
/// clock is read. The result is the median and interquartile range over samples (robust to a noisy neighbour).
/// </summary>
public sealed class LatencyProfiler(int warmup, int repeats, double minSampleMs)
{
    public LatencyMeasurement Measure(DistillModel model, Batch batch, Device device, int threads)
    {
        int previousThreads = torch.get_num_threads();
        bool wasTraining = model.training;
        try
        {
            torch.set_num_threads(threads);
            model.eval();
            using var inference = torch.inference_mode();
            var warmupClock = Stopwatch.StartNew();
            for (int i = 0; i < Math.Max(1, warmup); i++) Pass(model, batch, device);
            double perPassMs = warmupClock.Elapsed.TotalMilliseconds / Math.Max(1, warmup);
            int passes = perPassMs >= minSampleMs || perPassMs <= 0 ? 1 : (int)Math.Min(10_000, Math.Ceiling(minSampleMs / perPassMs));

            var samples = new double[repeats];
            for (int r = 0; r < repeats; r++)
            {
                long start = Stopwatch.GetTimestamp();
                for (int p = 0; p < passes; p++) Pass(model, batch, device);
                samples[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / passes;
            }
            return LatencyMeasurement.FromSamples(samples, warmup, passes, LoadAverage());
        }
        finally
        {
            torch.set_num_threads(previousThreads);
            model.train(wasTraining);
        }
    }

    private static void Pass(DistillModel model, Batch batch, Device device)
    {
        using var scope = torch.NewDisposeScope();
        model.call(batch);
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }

    /// <summary>The 1-minute load average from <c>/proc/loadavg</c>, or null where there is none.</summary>
    public static double? LoadAverage()
    {
        try
        {
            if (!File.Exists("/proc/loadavg")) return null;
            string first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.TryParse(first, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) ? v : null;
        }
        catch (IOException) { return null; }
    }
}
