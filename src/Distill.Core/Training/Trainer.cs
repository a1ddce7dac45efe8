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
                feed ??= new BatchPrefetcher(train, EpochBatches(train.Count, spec.BatchSize, spec.Seed, stepsPerEpoch, step, until), Prefetch);
                double lr = schedule.At(step);
                foreach (var group in session.Optimizer.ParamGroups) group.LearningRate = lr;

                double total;
                (string, double)[] terms;
                using (var scope = torch.NewDisposeScope())
                {
                    var batch = feed.Take(scope).To(device); // the step scope owns the batch
                    var loss = session.Objective.Compute(model, batch);
                    total = loss.Total.item<float>();
                    terms = loss.Terms.Select(t => (t.Name, (double)t.Value.detach().item<float>())).ToArray();
                    if (!double.IsFinite(total))
                    {
                        var bad = terms.FirstOrDefault(t => !double.IsFinite(t.Item2));
                        throw new NonFiniteLossException(session.Stage, step + 1, bad.Item1 ?? "total", bad.Item1 is null ? total : bad.Item2);
                    }
                    CheckLossGuards(session.Stage, step + 1, total, terms, session.RecentLosses);
                    session.Optimizer.zero_grad();
                    loss.Total.backward();
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

    /// <summary>The example order of one epoch (<see cref="Shuffle.Permutation"/>).</summary>
    public static int[] Permutation(int n, long seed, long epoch) => Shuffle.Permutation(n, seed, epoch);
}
