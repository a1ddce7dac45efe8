using Distill.Data;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>Evaluates a classifier on a whole split: mean cross-entropy, accuracy and macro-F1. Leaves the model in eval mode.</summary>
public static class Evaluator
{
    /// <param name="prefetch">Batches built ahead on a background thread (<c>data.prefetch</c>, <see cref="BatchPrefetcher"/>); 0 = none. The same result either way.</param>
    public static IReadOnlyDictionary<string, double> Evaluate(DistillModel model, IDataset data, int batchSize, Device device, int prefetch = 0)
    {
        var (metrics, loss) = Confusion(model, data, batchSize, device, prefetch);
        return new Dictionary<string, double>
        {
            ["accuracy"] = metrics.Accuracy,
            ["macro_f1"] = metrics.MacroF1,
            ["loss"] = loss,
        };
    }

    /// <summary>
    /// The confusion matrix of the whole split and the mean cross-entropy, computed exactly as <see cref="Evaluate"/>
    /// reports them (same batches, same arithmetic), for <c>distill eval</c>'s per-class report.
    /// </summary>
    public static (ClassificationMetrics Metrics, double Loss) Confusion(DistillModel model, IDataset data, int batchSize, Device device, int prefetch = 0)
    {
        model.eval();
        var metrics = new ClassificationMetrics(data.NumClasses);
        double lossSum = 0;
        using var _ = torch.no_grad();
        using var feed = new BatchPrefetcher(data, BatchPrefetcher.Sequential(data.Count, batchSize), prefetch);
        for (int start = 0; start < data.Count; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            var batch = feed.Take(scope).To(device); // the batch's scope is this one
            var labels = batch.RequireLabels();
            var logits = model.call(batch).Logits.to_type(ScalarType.Float32); // bf16 models: reduce in fp32
            lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
            metrics.Add(labels.cpu().data<long>().ToArray(), logits.argmax(1).cpu().data<long>().ToArray());
        }
        return (metrics, lossSum / Math.Max(1, data.Count));
    }

    /// <summary>Each split in order, with <see cref="Evaluate"/>; the first is the one reported as the stage's metrics.</summary>
    public static IReadOnlyList<SplitMetrics> EvaluateAll(DistillModel model, IReadOnlyList<EvalSplit> splits, int batchSize, Device device, int prefetch = 0)
    {
        if (splits.Count == 0) throw new ArgumentException("No split to evaluate.", nameof(splits));
        return [.. splits.Select(s => new SplitMetrics(s.Name, Evaluate(model, s.Data, batchSize, device, prefetch)))];
    }
}
