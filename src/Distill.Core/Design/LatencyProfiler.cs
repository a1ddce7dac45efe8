using System.Diagnostics;
using Distill.Data;
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
/// This is Distill's one latency timer: the design stage times candidates with it, and the compression stages time
/// their students (before/after pairs interleaved) with <see cref="MedianMsPerBatch"/>.
/// </summary>
public sealed class LatencyProfiler(int warmup, int repeats, double minSampleMs, TimingSettings? timing = null)
{
    private readonly TimingSettings _timing = (timing ?? new TimingSettings()) with { Rounds = repeats };

    /// <summary>
    /// The design stage's protocol (<see cref="InterleavedTiming"/>) for a block of models, each run by
    /// <paramref name="passes"/> (one call = one forward pass, in whatever runtime): <c>warmup</c> untimed passes of
    /// each (which also calibrate how many passes make a sample of at least <c>minSampleMs</c>), then interleaved
    /// rounds with <paramref name="reference"/> bracketing each. One measurement per model, in argument order.
    /// </summary>
    public IReadOnlyList<LatencyMeasurement> MeasureBlock(IReadOnlyList<Action> passes, int reference)
    {
        var perSample = new int[passes.Count];
        for (int m = 0; m < passes.Count; m++)
        {
            long warmupStart = Stopwatch.GetTimestamp();
            for (int i = 0; i < Math.Max(1, warmup); i++) passes[m]();
            double perPassMs = Stopwatch.GetElapsedTime(warmupStart).TotalMilliseconds / Math.Max(1, warmup);
            perSample[m] = perPassMs >= minSampleMs || perPassMs <= 0 ? 1 : (int)Math.Min(10_000, Math.Ceiling(minSampleMs / perPassMs));
        }
        var samplers = passes.Select<Action, Func<double>>((pass, m) => () =>
        {
            long start = Stopwatch.GetTimestamp();
            for (int p = 0; p < perSample[m]; p++) pass();
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds / perSample[m];
        }).ToList();
        var outcome = InterleavedTiming.Run(samplers, reference, _timing);
        double? load = LoadAverage();
        return [.. outcome.Samples.Select((s, m) => LatencyMeasurement.FromSamples(s, warmup, perSample[m], load, _timing, outcome.RejectedRounds, outcome.RetriesExhausted))];
    }

    /// <summary><see cref="MeasureBlock(IReadOnlyList{Action}, int)"/> for TorchSharp models on their batches: eval mode, inference mode, <paramref name="threads"/> intra-op threads (restored afterwards).</summary>
    public IReadOnlyList<LatencyMeasurement> MeasureBlock(IReadOnlyList<DistillModel> models, IReadOnlyList<Batch> batches, Device device, int threads, int reference)
    {
        int previousThreads = torch.get_num_threads();
        var wasTraining = models.Select(m => m.training).ToArray();
        try
        {
            torch.set_num_threads(threads);
            foreach (var model in models) model.eval();
            using var inference = torch.inference_mode();
            return MeasureBlock([.. models.Select<DistillModel, Action>((model, m) => () => Pass(model, batches[m], device))], reference);
        }
        finally
        {
            torch.set_num_threads(previousThreads);
            for (int m = 0; m < models.Count; m++) models[m].train(wasTraining[m]);
        }
    }

    public LatencyMeasurement Measure(DistillModel model, Batch batch, Device device, int threads) =>
        MeasureInterleaved([model], batch, device, threads)[0];

    /// <summary>
    /// Several models timed on the same batch with their samples interleaved (sample r of every model, then sample
    /// r + 1), so that a neighbour process's load falls on all of them alike; timing one model and minutes later
    /// another can differ by 2× on a shared machine. One measurement per model, in argument order.
    /// </summary>
    public IReadOnlyList<LatencyMeasurement> MeasureInterleaved(IReadOnlyList<DistillModel> models, Batch batch, Device device, int threads)
    {
        int previousThreads = torch.get_num_threads();
        var wasTraining = models.Select(m => m.training).ToArray();
        try
        {
            torch.set_num_threads(threads);
            foreach (var model in models) model.eval();
            using var inference = torch.inference_mode();
            var passes = new int[models.Count];
            for (int m = 0; m < models.Count; m++)
            {
                var warmupClock = Stopwatch.StartNew();
                for (int i = 0; i < Math.Max(1, warmup); i++) Pass(models[m], batch, device);
                double perPassMs = warmupClock.Elapsed.TotalMilliseconds / Math.Max(1, warmup);
                passes[m] = perPassMs >= minSampleMs || perPassMs <= 0 ? 1 : (int)Math.Min(10_000, Math.Ceiling(minSampleMs / perPassMs));
            }

            var samples = models.Select(_ => new double[repeats]).ToArray();
            for (int r = 0; r < repeats; r++)
                for (int m = 0; m < models.Count; m++)
                {
                    long start = Stopwatch.GetTimestamp();
                    for (int p = 0; p < passes[m]; p++) Pass(models[m], batch, device);
                    samples[m][r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / passes[m];
                }
            double? load = LoadAverage();
            return [.. Enumerable.Range(0, models.Count).Select(m => LatencyMeasurement.FromSamples(samples[m], warmup, passes[m], load))];
        }
        finally
        {
            torch.set_num_threads(previousThreads);
            for (int m = 0; m < models.Count; m++) models[m].train(wasTraining[m]);
        }
    }

    /// <summary>
    /// The median time of one forward pass of each model on the first <paramref name="batchSize"/> examples of
    /// <paramref name="data"/> (one warm-up pass, <paramref name="repeats"/> interleaved samples, the current thread
    /// count): what the compression stages report as <c>latency_ms_per_batch</c>. This measures the dense model as
    /// TorchSharp runs it; zeros and shared weights do not make dense kernels faster.
    /// </summary>
    public static double[] MedianMsPerBatch(IReadOnlyList<DistillModel> models, IDataset data, int batchSize, Device device, int repeats = 5)
    {
        using var scope = torch.NewDisposeScope();
        var batch = data.GetBatch([.. Enumerable.Range(0, Math.Min(batchSize, data.Count))]).To(device);
        var measured = new LatencyProfiler(warmup: 1, repeats, minSampleMs: 0).MeasureInterleaved(models, batch, device, torch.get_num_threads());
        return [.. measured.Select(m => m.MedianMs)];
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
