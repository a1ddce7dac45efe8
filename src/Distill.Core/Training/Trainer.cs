using System.Diagnostics;
using Distill.Data;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// The training loop: seeded shuffling, one dispose scope per step, lr schedule, gradient clipping, loss guards (NaN/Inf,
/// <c>max_loss</c>, <c>loss_spike</c>: <see cref="TrainingStoppedException"/>), periodic evaluation. Checkpoints, TensorBoard and progress are <see cref="ITrainerCallback"/>s.
/// Determinism: the example order of epoch e is a permutation drawn from (seed, e), the model's training randomness comes
/// from the session's generator, and that generator's state is part of a checkpoint, so N steps + resume + M steps
/// replays exactly the N + M steps of an uninterrupted run (whatever else draws from torch's global generator).
/// Gradient accumulation (<see cref="ITrainSettings.GradAccumSteps"/>) happens inside a step: steps, the schedule, the
/// callbacks (logging, checkpoints, evaluation) all see optimizer steps only, so a checkpoint always lies on a step boundary.
/// </summary>
public sealed class Trainer(ITrainSettings spec, IReadOnlyList<ITrainerCallback> callbacks)
{
    /// <summary>Steps whose median the <c>loss_spike</c> rule compares with (the window is saved in checkpoints).</summary>
    public const int LossSpikeWindow = 20;

    /// <summary>
    /// Batches built ahead on a background thread while a step runs (<c>data.prefetch</c>, <see cref="BatchPrefetcher"/>);
    /// 0 = each batch is built on the training thread. The same batches either way.
    /// </summary>
    public int Prefetch { get; init; }

    /// <summary>Optimizer steps of one epoch (the last partial batch is dropped so every step sees a full batch).</summary>
    public static long StepsPerEpoch(ITrainSettings spec, int examples) => Math.Max(1, examples / spec.BatchSize);

    /// <summary>Total optimizer steps of a stage with these settings on <paramref name="examples"/> training examples.</summary>
    public static long TotalSteps(ITrainSettings spec, int examples) =>
        spec.Steps ?? (long)Math.Ceiling(spec.Epochs!.Value * StepsPerEpoch(spec, examples));

    /// <summary>Runs from <see cref="TrainingSession.Step"/> to <see cref="TrainingSession.TotalSteps"/>, evaluating on <paramref name="eval"/>.</summary>
    public void Fit(TrainingSession session, IDataset train, IDataset eval, int evalBatchSize, Device device) =>
        Fit(session, train, [new EvalSplit("", eval)], evalBatchSize, device, named: false);

    /// <summary>
    /// Runs from <see cref="TrainingSession.Step"/> to <see cref="TrainingSession.TotalSteps"/>; every evaluation covers
    /// each of <paramref name="evals"/> (<see cref="EvalInfo.BySplit"/>), the first one choosing the best checkpoint.
    /// </summary>
    public void Fit(TrainingSession session, IDataset train, IReadOnlyList<EvalSplit> evals, int evalBatchSize, Device device) =>
        Fit(session, train, evals, evalBatchSize, device, named: true);

    private void Fit(TrainingSession session, IDataset train, IReadOnlyList<EvalSplit> evals, int evalBatchSize, Device device, bool named)
    {
        if (train.Count < spec.BatchSize)
            throw new InvalidOperationException($"Stage '{session.Stage}': batch_size {spec.BatchSize} is larger than the {train.Count} training examples.");
        var model = session.Model;
        var schedule = new LrSchedule(spec.Lr, spec.Schedule, spec.WarmupSteps, session.TotalSteps);
        long stepsPerEpoch = StepsPerEpoch(spec, train.Count);
        var trainable = model.parameters().Concat(session.Objective.Trainable?.parameters() ?? []).ToList();
        var clock = Stopwatch.StartNew();
        long examplesSinceClock = 0;
        BatchPrefetcher? feed = null; // the batches up to the next evaluation, built ahead (data.prefetch)

        try
        {
            foreach (var cb in callbacks) cb.OnStageStart(session);
            Loop();
        }
        catch (Exception e)
        {
            feed?.Dispose(); // stops the worker and frees the batches not taken
            foreach (var cb in callbacks) cb.OnAborted(session, e);
            throw;
        }
        model.eval();
        foreach (var cb in callbacks) cb.OnStageEnd(session);

        void Loop()
        {
            model.UseGenerator(session.Generator);
            model.train();
            session.Objective.Trainable?.train();
            while (session.Step < session.TotalSteps)
            {
                long step = session.Step;
                long until = spec.EvalEvery is { } each ? Math.Min(session.TotalSteps, (step / each + 1) * each) : session.TotalSteps;
                feed ??= new BatchPrefetcher(train, MicroBatches(EpochBatches(train.Count, spec.BatchSize, spec.Seed, stepsPerEpoch, step, until), spec.GradAccumSteps), Prefetch);
                double lr = schedule.At(step);
                foreach (var group in session.Optimizer.ParamGroups) group.LearningRate = lr;

                double total;
                (string, double)[] terms;
                using (var scope = torch.NewDisposeScope())
                {
                    session.Optimizer.zero_grad();
                    (total, terms) = AccumulateGradients(session, model, feed, step, device);
                    CheckLossGuards(session.Stage, step + 1, total, terms, session.RecentLosses);
                    if (spec.GradClip is { } clip) nn.utils.clip_grad_norm_(trainable, clip);
                    foreach (var cb in callbacks) cb.OnBeforeOptimizerStep(session);
                    session.Optimizer.step();
                }
                session.Step = step + 1;
                foreach (var cb in callbacks) cb.OnAfterOptimizerStep(session);
                examplesSinceClock += spec.BatchSize;
                double seconds = clock.Elapsed.TotalSeconds;
                var info = new StepInfo(session.Step, session.TotalSteps, lr, total, terms, seconds > 0 ? examplesSinceClock / seconds : 0);

                // Evaluate before the step callbacks so that a checkpoint written at this step already knows the best accuracy.
                bool last = session.Step == session.TotalSteps;
                if (last || (spec.EvalEvery is { } every && session.Step % every == 0))
                {
                    // The feed ends here (its worker is done): only this thread reads data while evaluating.
                    feed.Dispose();
                    feed = null;
                    var bySplit = Evaluator.EvaluateAll(model, evals, evalBatchSize, device, Prefetch);
                    var metrics = bySplit[0].Metrics;
                    // The primary metric's direction: higher accuracy, lower WER (EvalMetrics).
                    var (primary, higherIsBetter) = EvalMetrics.Primary(metrics);
                    bool isWer = primary == EvalMetrics.Wer;
                    bool best = EvalMetrics.IsBetter(metrics[primary], isWer ? session.BestWer : session.BestAccuracy, higherIsBetter);
                    if (best && isWer) session.BestWer = metrics[primary];
                    else if (best) session.BestAccuracy = metrics[primary];
                    foreach (var cb in callbacks) cb.OnEval(session, new EvalInfo(session.Step, metrics, best, named ? bySplit : null));
                    model.train();
                    session.Objective.Trainable?.train();
                }
                foreach (var cb in callbacks) cb.OnStep(session, info);
            }
        }
    }

    /// <summary>
    /// The gradients of one optimizer step, summed into the parameters' <c>.grad</c> over its
    /// <see cref="ITrainSettings.GradAccumSteps"/> micro-batches, each built, run and freed in a dispose scope of its own
    /// (so only one micro-batch's activations are alive at a time). Micro-batch k of n_k examples contributes
    /// (n_k / B) · loss_k, B = <see cref="ITrainSettings.BatchSize"/>: for a loss that is a mean over examples (each
    /// example's value summed over its own elements, then divided by the rows) Σ_k (n_k / B) · mean_k is the mean over
    /// the whole batch, so the gradients, the logged total and each logged term equal the one large batch's
    /// (up to float rounding of the sums' order). It is not exact where a term's denominator is not proportional to the
    /// rows: a mean over real tokens (<c>hidden_mse.mask_padding</c>, attention maps of padded text) when micro-batches
    /// hold different token counts, cross-entropy over the labelled rows when they hold different numbers of labels,
    /// and batch statistics (batch norm in train mode) are taken per micro-batch.
    /// </summary>
    private (double Total, (string, double)[] Terms) AccumulateGradients(
        TrainingSession session, DistillModel model, BatchPrefetcher feed, long step, Device device)
    {
        double total = 0;
        (string Name, double Value)[]? terms = null;
        foreach (int rows in MicroBatchSizes(spec.BatchSize, spec.GradAccumSteps))
        {
            using var micro = torch.NewDisposeScope();
            var batch = feed.Take(micro).To(device); // this micro-batch's scope owns it
            if (batch.Size != rows) throw new InvalidOperationException($"Stage '{session.Stage}': a micro-batch of {batch.Size} examples where {rows} were planned.");
            double share = (double)rows / spec.BatchSize;
            var loss = session.Objective.Compute(model, batch);
            double microTotal = loss.Total.item<float>();
            var microTerms = loss.Terms.Select(t => (t.Name, (double)t.Value.detach().item<float>())).ToArray();
            if (!double.IsFinite(microTotal))
            {
                var bad = microTerms.FirstOrDefault(t => !double.IsFinite(t.Item2));
                throw new NonFiniteLossException(session.Stage, step + 1, bad.Item1 ?? "total", bad.Item1 is null ? microTotal : bad.Item2);
            }
            (share == 1 ? loss.Total : loss.Total * share).backward();
            total += share * microTotal;
            terms ??= microTerms.Select(t => (t.Name, 0.0)).ToArray();
            for (int i = 0; i < terms.Length; i++) terms[i].Value += share * microTerms[i].Item2;
        }
        return (total, terms!);
    }

    /// <summary>
    /// <c>train.max_loss</c> and <c>train.loss_spike</c>: a finite loss that shows divergence stops the run before the
    /// weights overflow. The spike rule compares with the median of the previous <see cref="LossSpikeWindow"/>
    /// totals once 3 are known (a median is not moved by one earlier outlier; a non-positive median disables it).
    /// </summary>
    private void CheckLossGuards(string stage, long step, double total, (string Name, double Value)[] terms, List<double> recent)
    {
        string breakdown = terms.Length > 1 ? $" (terms: {string.Join(", ", terms.Select(t => $"{t.Name} = {t.Value:G4}"))})" : "";
        if (spec.MaxLoss is { } max && total > max)
            throw new LossGuardException(stage, step, "total", total, $"exceeds train.max_loss = {max:G4}{breakdown}");
        if (spec.LossSpike is { } k && recent.Count >= 3)
        {
            var sorted = recent.Order().ToArray();
            double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
            if (median > 0 && total > k * median)
                throw new LossGuardException(stage, step, "total", total,
                    $"is more than train.loss_spike = {k:G4} × {median:G4}, the median of the previous {recent.Count} steps{breakdown}");
        }
        recent.Add(total);
        if (recent.Count > LossSpikeWindow) recent.RemoveAt(0);
    }

    /// <summary>
    /// The example indices of steps <paramref name="from"/> to <paramref name="to"/> − 1: step s takes the
    /// (s mod stepsPerEpoch)-th run of <paramref name="batchSize"/> examples of epoch s / stepsPerEpoch's <see cref="Permutation"/>.
    /// </summary>
    public static IEnumerable<int[]> EpochBatches(int count, int batchSize, long seed, long stepsPerEpoch, long from, long to)
    {
        int[]? order = null;
        long orderEpoch = -1;
        for (long step = from; step < to; step++)
        {
            long epoch = step / stepsPerEpoch;
            if (epoch != orderEpoch)
            {
                order = Permutation(count, seed, epoch);
                orderEpoch = epoch;
            }
            int offset = (int)(step % stepsPerEpoch) * batchSize;
            yield return order![offset..(offset + batchSize)];
        }
    }

    /// <summary>
    /// The sizes of the micro-batches one step of <paramref name="batchSize"/> examples is split into: min(N, B) parts whose
    /// sizes differ by at most one, the larger ones first (B = 30, N = 4: 8, 8, 7, 7), so none is empty.
    /// </summary>
    public static int[] MicroBatchSizes(int batchSize, int accumSteps)
    {
        int parts = Math.Clamp(accumSteps, 1, batchSize);
        return Enumerable.Range(0, parts).Select(k => batchSize / parts + (k < batchSize % parts ? 1 : 0)).ToArray();
    }

    /// <summary>Each step's example indices cut, in order, into its <see cref="MicroBatchSizes"/> runs.</summary>
    public static IEnumerable<int[]> MicroBatches(IEnumerable<int[]> steps, int accumSteps)
    {
        foreach (var indices in steps)
        {
            if (accumSteps <= 1) { yield return indices; continue; }
            int offset = 0;
            foreach (int n in MicroBatchSizes(indices.Length, accumSteps))
            {
                yield return indices[offset..(offset + n)];
                offset += n;
            }
        }
    }

    /// <summary>The example order of one epoch (<see cref="Shuffle.Permutation"/>).</summary>
    public static int[] Permutation(int n, long seed, long epoch) => Shuffle.Permutation(n, seed, epoch);
}
