using System.Diagnostics;
using Distill.Checkpoints;
using Distill.Compression;
using Distill.Compression.Allocation;
using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Logging;
using Distill.Models;
using Distill.Recipes;
using Distill.Stages.Results;
using Distill.Training;
using TorchSharp;

namespace Distill.Stages;

/// <summary>
/// Quantizes the run's current student; pruned zeros stay zero throughout.
/// <list type="bullet">
/// <item><c>kmeans</c> — Deep Compression weight sharing: each selected weight's non-zeros are clustered per layer,
/// every entry replaced by its centroid, and the centroids fine-tuned by the sum of their entries' gradients. The final
/// model holds at most 2^bits distinct non-zeros per weight, which the export stage stores as a codebook.</item>
/// <item><c>qat</c> — quantization-aware training: forward and backward see fake-quantized weights (and, with
/// <c>activation_bits</c>, fake-quantized layer inputs); straight-through gradients update latent float weights. With a
/// teacher and distillation terms the loss is the teacher's soft targets (KD-QAT). The final weights are folded onto
/// their grid.</item>
/// <item><c>ptq</c> — post-training quantization: weights rounded to their grid, activation ranges from a calibration
/// pass over training batches; no training.</item>
/// </list>
/// Fine-tuning uses the recipe's distillation terms when the run has a teacher and terms, else cross-entropy. The
/// stage's state (masks, centroids, latent weights, activation ranges) travels in its checkpoints; linear grids and
/// activation ranges are saved as <c>quantization.safetensors</c> beside the model for the export stage.
/// </summary>
public sealed class QuantizeStage(QuantizeStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.Student;

    public StageOutput Run(StageInputs inputs)
    {
        var run = inputs.Run;
        var student = inputs.Student ?? throw new InvalidOperationException(
            $"Stage '{spec.DisplayName}' quantizes the run's student, but there is none yet: put a baseline, distill or prune stage before it.");
        var clock = Stopwatch.StartNew();
        var selected = PruneSelector.Select(student, spec.Include, spec.Exclude);
        if (selected.Count == 0)
            throw new InvalidOperationException(
                $"Stage '{spec.DisplayName}': include/exclude select no Linear or Conv weight of the {student.Family} student; " +
                "check the patterns against the module paths (distill validate lists them).");
        var masks = new MaskSet(selected);
        AllocationReport? allocation = null;
        AccuracySearchReport? search = null;
        QuantizeResult result;
        QuantizationRecord record;
        if (spec.MaxAccuracyDrop is { } drop)
            (result, record, masks, allocation, search) = Search(inputs, student, selected, drop);
        else
        {
            _bits = spec.Budget(CompressionStats.Fp32Bytes(student)) is { } target
                ? Allocate(run, student, selected, masks, target, out allocation)
                : selected.ToDictionary(w => w.Name, w => spec.BitsFor(w.ModulePath));
            (result, record) = spec.Method switch
            {
                QuantizeMethod.Kmeans => KMeans(inputs, student, selected, masks),
                QuantizeMethod.Qat => Qat(inputs, student, selected, masks),
                _ => Ptq(run, student, selected),
            };
        }
        if (record.Weights.Count + record.Activations.Count > 0) record.Save(run.ModelDir(spec));

        if (run.Recipe.Output.Tensorboard)
        {
            var writer = new EventFileWriter(Path.Combine(run.RunDir, "tb", spec.DisplayName));
            foreach (var (name, bits) in _bits) writer.Scalar($"bits/{name}", bits, result.Steps);
            foreach (var name in masks.Names) writer.Scalar($"sparsity/{name}", masks.Sparsity(name), result.Steps);
        }
        var estimate = inputs.Estimate(student, ExportOptions(run) with { Linear = record.Weights }, record.Activations);
        bool linear = spec.Method != QuantizeMethod.Kmeans;
        result = result.WithEstimate<QuantizeResult>(estimate) with
        {
            WallSeconds = clock.Elapsed.TotalSeconds,
            Method = spec.Method.ToString().ToLowerInvariant(),
            LayerBits = _bits,
            Sparsity = masks.OverallSparsity(),
            Scheme = linear ? new QuantScheme(spec.Bits, spec.PerChannel, spec.Symmetric, spec.CompactScales).ToString() : null,
            // The metrics were measured with the activations quantized (hooks attached during evaluation).
            ActivationBits = linear ? spec.ActivationBits : null,
            Allocation = allocation,
            AccuracySearch = search,
            Warning = search is { Met: false }
                ? $"no budget kept the accuracy within {search.MaxAccuracyDrop} points of {search.ReferenceAccuracy:0.0000}: even the largest " +
                  $"({search.LargestBytes} bytes) reached {search.Evaluations[0].Accuracy:0.0000}; the stage keeps that one"
                : search is null && allocation is not null && estimate.EstimatedArtifactBytes > allocation.TargetBytes
                ? $"after fine-tuning the artifact is estimated at {estimate.EstimatedArtifactBytes} bytes, over the allocation's target of " +
                  $"{allocation.TargetBytes} (fine-tuning moved the Huffman statistics); lower the target by the difference to stay under it"
                : null,
        };
        return new StageOutput(result, student);
    }

    private (QuantizeResult, QuantizationRecord) KMeans(StageInputs inputs, DistillModel student, IReadOnlyList<PrunableWeight> selected, MaskSet masks)
    {
        bool adam = (spec.CentroidUpdate ?? CentroidUpdate.Adam) == CentroidUpdate.Adam;
        var shared = new SharedWeights(selected.Select(w => (w, _bits[w.Name])), masks, adam);
        if (!spec.FineTune)
        {
            shared.Apply();
            return (StageTraining.Evaluated<QuantizeResult>(inputs.Run, spec, student), QuantizationRecord.Empty);
        }
        using var objective = new CompressionObjective(FineTuning.Build(inputs, spec, spec.Objective, student, spec.Terms),
            ("masks", masks), ("shared", shared));
        return (StageTraining.Train<QuantizeResult>(inputs.Run, spec, student, objective, [new SharedWeightsCallback(shared)]), QuantizationRecord.Empty);
    }

    /// <summary>
    /// Target-accuracy mode: the options are measured once, then <see cref="BudgetSearch.Bisect"/> evaluates byte budgets
    /// between the smallest and the largest artifact they allow. One evaluation restores the student as received,
    /// allocates at the budget, fine-tunes (k-means centroids with KD), writes the artifact with the next export stage's
    /// options, reloads it and evaluates the reloaded model; the smallest evaluation within the drop is kept (or, when
    /// none is, the largest budget's). Each evaluation trains from the start (its checkpoints replace the previous
    /// one's), so a resumed search starts over.
    /// </summary>
    private (QuantizeResult, QuantizationRecord, MaskSet, AllocationReport?, AccuracySearchReport) Search(StageInputs inputs, DistillModel student,
        IReadOnlyList<PrunableWeight> selected, double drop)
    {
        var run = inputs.Run;
        double reference = run.Evaluate(student).Metrics["accuracy"];
        var start = Snapshot(student);
        Dictionary<string, torch.Tensor>? keptState = null;
        // The snapshots are native tensors: freed on every exit, a failed evaluation included.
        try
        {
            var measured = MeasureOptions(run, student, selected, new MaskSet(selected));
            Restore(student, start);
            string dir = Path.Combine(run.RunDir, "artifacts", spec.DisplayName);
            Directory.CreateDirectory(dir);
            (QuantizeResult Result, MaskSet Masks, AllocationReport Allocation, Dictionary<string, int> Bits)? kept = null;
            long keptBytes = long.MaxValue;
            bool keptWithin = false;
            int n = 0;
            var outcome = BudgetSearch.Bisect(measured.SmallestBytes, measured.LargestBytes, reference - drop / 100, spec.MaxEvaluations, budget =>
            {
                Restore(student, start);
                string ckpt = run.CheckpointDir(spec);
                if (Directory.Exists(ckpt)) Directory.Delete(ckpt, recursive: true);
                var masks = new MaskSet(selected);
                _bits = Choose(run, selected, masks, measured, budget, out var allocation);
                var (result, _) = KMeans(inputs, student, selected, masks);
                var plan = ModelArtifact.Plan(student, ExportOptions(run));
                string path = Path.Combine(dir, $"search-{n++}.dcmp");
                long bytes = ArtifactEncoder.Write(plan, path);
                double accuracy;
                using (var loaded = ModelArtifact.Load(path, ModelRegistry.Default))
                {
                    loaded.to(run.Device);
                    accuracy = run.Evaluate(loaded).Metrics["accuracy"];
                }
                File.Delete(path);
                bool within = accuracy >= reference - drop / 100;
                run.Log.WriteLine($"[{spec.DisplayName}] accuracy search {n}/{spec.MaxEvaluations}: budget {budget} bytes -> artifact {bytes} bytes, " +
                                  $"reloaded accuracy {accuracy:0.0000} ({(within ? "within" : "beyond")} {drop} points of {reference:0.0000})");
                // Keep the smallest passing evaluation; before any passes, the first (the largest budget).
                if (kept is null || (within && (!keptWithin || bytes < keptBytes)))
                {
                    if (keptState is not null) foreach (var t in keptState.Values) t.Dispose();
                    keptState = Snapshot(student);
                    kept = (result, masks, allocation, new Dictionary<string, int>(_bits));
                    (keptBytes, keptWithin) = (bytes, within);
                }
                return (bytes, accuracy);
            });
            Restore(student, keptState!);
            var chosen = kept!.Value;
            _bits = chosen.Bits;
            TrainingCheckpoints.SaveModel(run.ModelDir(spec), student, new CheckpointState
            {
                Stage = spec.DisplayName, Kind = spec.Kind, Step = chosen.Result.Steps, RecipeSha256 = run.RecipeSha256,
            });
            var report = new AccuracySearchReport
            {
                Method = "bisection over the byte budget; one evaluation = allocation + k-means fine-tuning + artifact reload + evaluation",
                ReferenceAccuracy = reference, MaxAccuracyDrop = drop, MaxEvaluations = spec.MaxEvaluations,
                SmallestBytes = measured.SmallestBytes, LargestBytes = measured.LargestBytes, Met = outcome.Best is not null,
                ChosenBudget = outcome.Best is { } b ? outcome.Evaluations[b].Budget : outcome.Evaluations[0].Budget,
                Evaluations = outcome.Evaluations.Select(e => new AccuracySearchEvaluation
                {
                    BudgetBytes = e.Budget, ArtifactBytes = e.Bytes, Accuracy = e.Accuracy, Within = e.Within,
                }).ToList(),
            };
            return (chosen.Result, QuantizationRecord.Empty, chosen.Masks, chosen.Allocation, report);
        }
        finally
        {
            foreach (var t in start.Values) t.Dispose();
            if (keptState is not null) foreach (var t in keptState.Values) t.Dispose();
        }
    }

    private static Dictionary<string, torch.Tensor> Snapshot(DistillModel model)
    {
        using var _ = torch.no_grad();
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    }

    private static void Restore(DistillModel model, Dictionary<string, torch.Tensor> state)
    {
        using var _ = torch.no_grad();
        foreach (var (k, v) in model.state_dict()) v.copy_(state[k]);
    }

    private (QuantizeResult, QuantizationRecord) Qat(StageInputs inputs, DistillModel student, IReadOnlyList<PrunableWeight> selected, MaskSet masks)
    {
        var qat = new QatWeights(selected.Select(w => (w, Scheme(w))), masks);
        var acts = spec.ActivationBits is { } bits ? new ActivationQuantizers(Activated(selected).Select(w => (w.ModulePath, bits))) : null;
        if (!spec.FineTune)
        {
            // Without training QAT is PTQ of the weights; activation ranges would never be observed.
            if (acts is not null)
                throw new InvalidOperationException($"Stage '{spec.DisplayName}': method qat with fine_tune: false cannot observe activation ranges; use method: ptq.");
            qat.Start();
            return (StageTraining.Evaluated<QuantizeResult>(inputs.Run, spec, student), new QuantizationRecord(qat.Grids(), []));
        }
        var states = new List<(string, torch.nn.Module)> { ("masks", masks), ("qat", qat) };
        if (acts is not null) states.Add(("activations", acts));
        using var objective = new CompressionObjective(FineTuning.Build(inputs, spec, spec.Objective, student, spec.Terms), [.. states]);
        var result = StageTraining.Train<QuantizeResult>(inputs.Run, spec, student, objective, [new QatCallback(qat, acts, student)]);
        return (result, new QuantizationRecord(qat.Grids(), acts?.Ranges ?? []));
    }

    private (QuantizeResult, QuantizationRecord) Ptq(RunEnvironment run, DistillModel student, IReadOnlyList<PrunableWeight> selected)
    {
        var grids = new Dictionary<string, LinearQuantParams>();
        using (torch.no_grad())
            foreach (var w in selected)
            {
                var grid = WeightQuantizer.Grid(w.Weight, Scheme(w));
                using var q = WeightQuantizer.FakeQuantize(w.Weight, grid);
                w.Weight.copy_(q);
                grids[w.Name] = grid;
            }
        ActivationQuantizers? acts = null;
        if (spec.ActivationBits is { } bits)
        {
            acts = new ActivationQuantizers(Activated(selected).Select(w => (w.ModulePath, bits))) { Mode = ActivationQuantizers.ObserverMode.Calibrate };
            acts.Attach(student);
            Calibrate(run, student);
            acts.Mode = ActivationQuantizers.ObserverMode.Frozen;
        }
        try
        {
            return (StageTraining.Evaluated<QuantizeResult>(run, spec, student), new QuantizationRecord(grids, acts?.Ranges ?? []));
        }
        finally { acts?.Detach(); }
    }

    /// <summary>Runs <c>calibration_batches</c> training batches (eval mode, no gradients) so the observers see real inputs.</summary>
    private void Calibrate(RunEnvironment run, DistillModel student)
    {
        int batch = run.TrainFor(spec).BatchSize;
        var order = Trainer.Permutation(run.TrainData.Count, run.TrainFor(spec).Seed, 0);
        student.eval();
        using var _ = torch.no_grad();
        for (int b = 0; b < spec.CalibrationBatches && (b + 1) * batch <= order.Length; b++)
        {
            using var scope = torch.NewDisposeScope();
            student.call(run.TrainData.GetBatch(order.AsSpan(b * batch, batch)).To(run.Device));
        }
    }

    private Dictionary<string, int> _bits = [];

    /// <summary>The weights whose layer inputs <c>activation_bits</c> quantizes: not embedding weights, whose modules take
    /// token ids, pixels or the positional convolution's own input.</summary>
    private static IEnumerable<PrunableWeight> Activated(IEnumerable<PrunableWeight> selected) => selected.Where(w => !w.IsEmbedding);

    private QuantScheme Scheme(PrunableWeight w) => new(_bits[w.Name], spec.PerChannel, spec.Symmetric, spec.CompactScales);

    /// <summary>Per-layer widths (and sparsities) under the byte budget: sensitivities and exact record sizes of every
    /// candidate, then the exact knapsack of <see cref="BudgetAllocation.Solve"/> on the budget left after the tensors the
    /// stage does not quantize. The chosen sparsities are applied to <paramref name="masks"/> before fine-tuning. Sizes
    /// are those the recipe's next export stage will write (its float16/Huffman/codebook options).</summary>
    private Dictionary<string, int> Allocate(RunEnvironment run, DistillModel student, IReadOnlyList<PrunableWeight> selected, MaskSet masks,
        long target, out AllocationReport report) =>
        Choose(run, selected, masks, MeasureOptions(run, student, selected, masks), target, out report);

    /// <summary>The measured options of every selected layer and the bytes of everything else (header, other tensors).</summary>
    private sealed record MeasuredOptions(IReadOnlyList<IReadOnlyList<LayerOption>> Layers, long FixedBytes)
    {
        public long SmallestBytes => FixedBytes + Layers.Sum(o => o.Min(x => x.Bytes));
        public long LargestBytes => FixedBytes + Layers.Sum(o => o.Max(x => x.Bytes));
    }

    private MeasuredOptions MeasureOptions(RunEnvironment run, DistillModel student, IReadOnlyList<PrunableWeight> selected, MaskSet masks)
    {
        var candidates = (spec.CandidateBits ?? (spec.Method == QuantizeMethod.Kmeans ? [1, 2, 3, 4, 5, 6, 8] : [2, 3, 4, 5, 6, 8])).Distinct().Order().ToList();
        var sparsities = (spec.CandidateSparsity ?? [SparsityChoice.Keep]).Distinct().ToList();
        var options = ExportOptions(run);
        var placeholders = spec.ActivationBits is { } ab
            ? Activated(selected).Select(w => new ActivationRange(w.ModulePath, ab, 0, 0)).ToList()
            : new List<ActivationRange>();
        var floatPlan = ModelArtifact.Plan(student, options, placeholders);
        var names = selected.Select(w => w.Name).ToHashSet();
        long fixedBytes = floatPlan.HeaderBytes + floatPlan.Tensors.Sum(t => names.Contains(t.Name) ? t.NameBytes : t.PredictedBytes);

        int batch = run.TrainFor(spec).BatchSize;
        var order = Trainer.Permutation(run.TrainData.Count, run.TrainFor(spec).Seed, 0);
        int count = Math.Max(1, Math.Min(spec.SensitivityBatches, order.Length / batch));
        // The sensitivity batches, fetched once: every option is measured on the same few batches.
        var batches = Enumerable.Range(0, count).Select(b => run.TrainData.GetBatch(order.AsSpan(b * batch, batch)).To(run.Device)).ToList();
        // kl: the unchanged model's log-probabilities on those batches are the reference (a few batches x classes).
        var reference = new List<torch.Tensor>();
        if (spec.Sensitivity == SensitivityMeasure.Kl)
        {
            student.eval();
            using var _ = torch.no_grad();
            foreach (var data in batches)
            {
                using var scope = torch.NewDisposeScope();
                reference.Add(torch.nn.functional.log_softmax(student.call(data).Logits, -1).MoveToOuterDisposeScope());
            }
        }
        double Loss()
        {
            using var _ = torch.no_grad();
            double sum = 0;
            for (int b = 0; b < count; b++)
            {
                using var scope = torch.NewDisposeScope();
                var output = student.call(batches[b]);
                var logits = output.Logits;
                if (spec.Sensitivity == SensitivityMeasure.Kl)
                {
                    // KL(p || p') = Σ p (log p − log p'), averaged over the batch's examples.
                    var logP = reference[b];
                    sum += (logP.exp() * (logP - torch.nn.functional.log_softmax(logits, -1))).sum(-1).mean().item<float>();
                }
                // Transcript data: the model's own CTC loss on the transcripts stands in for the cross-entropy.
                else if (run.TrainData.Vocabulary is not null) sum += (output.Loss ?? throw new InvalidOperationException("A CTC model computed no loss on transcript labels.")).item<float>();
                else sum += torch.nn.functional.cross_entropy(logits, batches[b].RequireLabels()).item<float>();
            }
            return sum / count;
        }
        (torch.Tensor, LinearQuantParams?) Quantize(PrunableWeight w, torch.Tensor weight, torch.Tensor mask, int bits)
        {
            if (spec.Method == QuantizeMethod.Kmeans)
            {
                using var scope = torch.NewDisposeScope();
                var (centroids, assign) = KMeans1D.Cluster(weight.masked_select(mask), 1 << bits);
                var q = torch.zeros_like(weight).masked_scatter_(mask, centroids.index_select(0, assign));
                return (q.MoveToOuterDisposeScope(), null);
            }
            var grid = WeightQuantizer.Grid(weight, new QuantScheme(bits, spec.PerChannel, spec.Symmetric, spec.CompactScales));
            return (WeightQuantizer.FakeQuantize(weight, grid), grid);
        }

        IReadOnlyList<IReadOnlyList<LayerOption>> layerOptions;
        IReadOnlyList<string> skipped;
        try { layerOptions = BudgetAllocation.Measure(student, selected, masks, sparsities, candidates, Quantize, Loss, options, out skipped); }
        finally
        {
            foreach (var t in reference) t.Dispose();
            foreach (var data in batches)
            {
                foreach (var t in data.Inputs.Values) t.Dispose();
                data.Labels?.Dispose();
            }
        }
        foreach (var why in skipped) run.Log.WriteLine($"[{spec.DisplayName}] allocation: {why}; that option is left out for this layer");
        return new MeasuredOptions(layerOptions, fixedBytes);
    }

    /// <summary>The knapsack's choice for <paramref name="target"/> bytes applied: masks set, widths returned.</summary>
    private Dictionary<string, int> Choose(RunEnvironment run, IReadOnlyList<PrunableWeight> selected, MaskSet masks, MeasuredOptions measured,
        long target, out AllocationReport report)
    {
        var (layerOptions, fixedBytes) = (measured.Layers, measured.FixedBytes);
        var choice = BudgetAllocation.Solve(layerOptions, target - fixedBytes);
        string targetText = spec.TargetBytes is not null ? $"target_bytes {target}"
            : spec.TargetRatio is not null ? $"target_ratio {spec.TargetRatio} ({target} bytes)" : $"budget {target} bytes";
        if (choice is null)
        {
            long smallest = fixedBytes + layerOptions.Sum(o => o.Min(x => x.Bytes));
            throw new InvalidOperationException(
                $"Stage '{spec.DisplayName}': {targetText} cannot be met: the unquantized tensors and header take {fixedBytes} bytes and the " +
                $"smallest candidates bring the artifact to {smallest} bytes. Raise the target, prune more first, allow fewer bits or more sparsity.");
        }
        var bitsByName = new Dictionary<string, int>();
        var chosen = new Dictionary<string, AllocationChoice>();
        long predicted = fixedBytes;
        double sensitivity = 0;
        for (int i = 0; i < selected.Count; i++)
        {
            var o = layerOptions[i][choice[i]];
            var w = selected[i];
            bitsByName[w.Name] = o.Bits;
            using (var mask = o.Sparsity.Mask(w.Weight.detach(), masks[w.Name], w.Name, out _)!) masks.Set(w.Name, mask);
            predicted += o.Bytes;
            sensitivity += o.Sensitivity;
            chosen[w.Name] = new AllocationChoice
            {
                Sparsity = o.Sparsity.ToString(), MeasuredSparsity = masks.Sparsity(w.Name), Bits = o.Bits, Bytes = o.Bytes, Sensitivity = o.Sensitivity,
            };
        }
        masks.Apply();
        report = new AllocationReport
        {
            TargetBytes = target,
            PredictedBytes = predicted,
            SummedSensitivity = sensitivity,
            Sensitivity = spec.Sensitivity == SensitivityMeasure.Kl ? "kl" : "loss",
            Chosen = chosen,
            Options = selected.Select((w, i) => (w.Name, Options: layerOptions[i]))
                .ToDictionary(x => x.Name, x => x.Options.Select(o => new AllocationOption
                {
                    Sparsity = o.Sparsity.ToString(), Bits = o.Bits, Bytes = o.Bytes, Sensitivity = o.Sensitivity,
                }).ToList()),
            TargetRatio = spec.TargetRatio,
        };
        run.Log.WriteLine($"[{spec.DisplayName}] allocation for {targetText}, predicted {predicted} bytes (sensitivity: {report.Sensitivity}):");
        foreach (var w in selected)
        {
            var c = chosen[w.Name];
            run.Log.WriteLine($"  {w.Name,-60} sparsity {c.Sparsity,-5} bits {c.Bits}  {c.Bytes,9} B  sensitivity {c.Sensitivity:G3}");
        }
        return bitsByName;
    }

    /// <summary>The encoder options of the recipe's next export stage (defaults without one): sizes are predicted as that
    /// stage will write them.</summary>
    private ArtifactOptions ExportOptions(RunEnvironment run) =>
        run.Recipe.Stages.SkipWhile(s => !ReferenceEquals(s, spec)).OfType<ExportStageSpec>().FirstOrDefault()?.ArtifactOptions() ?? new ArtifactOptions();
}
