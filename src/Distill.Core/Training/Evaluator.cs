using Distill.Data;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// Evaluates a model on a whole split. Classification: mean cross-entropy, accuracy and macro-F1. Transcript data (a
/// split with a <see cref="IDataset.Vocabulary"/>): greedy CTC transcriptions scored by <c>wer</c>, <c>cer</c> and
/// <c>exact_match</c> (<see cref="TranscriptionMetrics"/>) and <c>loss</c>, the CTC loss per clip. Leaves the model in eval mode.
/// </summary>
public static class Evaluator
{
    /// <param name="prefetch">Batches built ahead on a background thread (<c>data.prefetch</c>, <see cref="BatchPrefetcher"/>); 0 = none. The same result either way.</param>
    public static IReadOnlyDictionary<string, double> Evaluate(DistillModel model, IDataset data, int batchSize, Device device, int prefetch = 0)
    {
        if (data.Vocabulary is not null)
        {
            var (scores, ctcLoss, _) = Transcribe(model, data, batchSize, device, prefetch);
            return new Dictionary<string, double>
            {
                [EvalMetrics.Wer] = scores.Wer,
                ["cer"] = scores.Cer,
                ["exact_match"] = scores.ExactMatch,
                ["loss"] = ctcLoss,
            };
        }
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

    /// <summary>
    /// Greedy CTC transcriptions of a transcript split, scored against its transcripts, and the mean CTC loss per clip
    /// (Σ over clips of −log p(transcript | clip), blank = the vocabulary's <c>&lt;pad&gt;</c>, infinite losses of clips
    /// too short for their transcript counted as 0, whatever the model's training reduction), with each clip's hypothesis.
    /// </summary>
    public static (TranscriptionMetrics Scores, double Loss, IReadOnlyList<string> Hypotheses) Transcribe(
        DistillModel model, IDataset data, int batchSize, Device device, int prefetch = 0)
    {
        var vocabulary = data.Vocabulary ?? throw new ArgumentException("The split holds class labels, not transcripts.", nameof(data));
        model.eval();
        var scores = new TranscriptionMetrics();
        var hypotheses = new List<string>(data.Count);
        double lossSum = 0;
        using var _ = torch.no_grad();
        using var feed = new BatchPrefetcher(data, BatchPrefetcher.Sequential(data.Count, batchSize), prefetch);
        for (int start = 0; start < data.Count; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            var batch = feed.Take(scope).To(device); // the batch's scope is this one
            var labels = batch.RequireLabels();
            var output = model.call(new Batch(batch.Inputs, null)); // no labels: the model's own (training) loss is not needed
            var texts = CtcDecoding.Greedy(output, vocabulary);
            lossSum += CtcLossSum(output, labels, vocabulary.PadId);
            for (int i = 0; i < texts.Length; i++)
            {
                scores.Add(data.Transcript(start + i), texts[i]);
                hypotheses.Add(texts[i]);
            }
        }
        return (scores, lossSum / Math.Max(1, data.Count), hypotheses);
    }

    /// <summary>Σ over the batch's clips of the CTC loss (float32 log-softmax, real frames only, zero_infinity).</summary>
    private static double CtcLossSum(ModelOutput output, Tensor labels, int blank)
    {
        var frames = torch.tensor(CtcDecoding.FrameCounts(output));                              // (B,)
        var keep = labels >= 0;                                                                  // (B, S)
        var logProbs = nn.functional.log_softmax(output.Logits.to_type(ScalarType.Float32), -1).transpose(0, 1); // (T, B, vocab)
        return nn.functional.ctc_loss(logProbs, labels.masked_select(keep), frames, keep.sum(-1).to_type(ScalarType.Int64),
            blank: blank, zero_infinity: true, reduction: nn.Reduction.Sum).item<float>();
    }

    /// <summary>Each split in order, with <see cref="Evaluate"/>; the first is the one reported as the stage's metrics.</summary>
    public static IReadOnlyList<SplitMetrics> EvaluateAll(DistillModel model, IReadOnlyList<EvalSplit> splits, int batchSize, Device device, int prefetch = 0)
    {
        if (splits.Count == 0) throw new ArgumentException("No split to evaluate.", nameof(splits));
        return [.. splits.Select(s => new SplitMetrics(s.Name, Evaluate(model, s.Data, batchSize, device, prefetch)))];
    }
}
