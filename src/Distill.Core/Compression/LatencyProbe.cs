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
    public static double MillisecondsPerBatch(DistillModel model, IDataset data, int batchSize, Device device, int runs = 5)
    {
        int n = Math.Min(batchSize, data.Count);
        var indices = Enumerable.Range(0, n).ToArray();
        model.eval();
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var batch = data.GetBatch(indices).To(device);
        model.call(batch);
        var times = new List<double>(runs);
        for (int i = 0; i < runs; i++)
        {
            using var inner = torch.NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var logits = model.call(batch).Logits;
            if (device.type != DeviceType.CPU) logits.cpu();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
