using System.Diagnostics;
using Distill.Data;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression;

/// <summary>
/// Wall-clock latency of one eval-mode forward pass on one batch of the eval split: one warm-up pass, then the median
/// of <c>runs</c> timed passes (the median resists a neighbour process stealing the CPU for one pass). This measures
/// the dense model as TorchSharp runs it; zeros and shared weights do not make dense kernels faster.
/// </summary>
public static class LatencyProbe
{
    public static double MillisecondsPerBatch(DistillModel model, IDataset data, int batchSize, Device device, int runs = 5) =>
        Median([model], data, batchSize, device, runs)[0];

    /// <summary>
    /// Two models timed in alternation on the same batch (warm-up of each, then <c>runs</c> rounds of first, second),
    /// each model's median returned: a before/after comparison in which a neighbour process's load falls on both
    /// (timing one model and minutes later the other can differ by 2× on a shared machine).
    /// </summary>
    public static (double First, double Second) Alternating(DistillModel first, DistillModel second, IDataset data, int batchSize, Device device, int runs = 5)
    {
        var medians = Median([first, second], data, batchSize, device, runs);
        return (medians[0], medians[1]);
    }

    private static double[] Median(IReadOnlyList<DistillModel> models, IDataset data, int batchSize, Device device, int runs)
    {
        int n = Math.Min(batchSize, data.Count);
        var indices = Enumerable.Range(0, n).ToArray();
        foreach (var model in models) model.eval();
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var batch = data.GetBatch(indices).To(device);
        foreach (var model in models) model.call(batch);
        var times = models.Select(_ => new List<double>(runs)).ToList();
        for (int i = 0; i < runs; i++)
        {
            for (int m = 0; m < models.Count; m++)
            {
                using var inner = torch.NewDisposeScope();
                var clock = Stopwatch.StartNew();
                var logits = models[m].call(batch).Logits;
                if (device.type != DeviceType.CPU) logits.cpu();
                times[m].Add(clock.Elapsed.TotalMilliseconds);
            }
        }
        return times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
    }
}
