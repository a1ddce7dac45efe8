using System.Diagnostics;
using Distill.Checkpoints;
using Distill.Compression;
using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Models;
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

    public StageResult Run(RunContext run)
    {
        var student = run.Student ?? throw new InvalidOperationException(
            $"Stage '{spec.DisplayName}' quantizes the run's student, but there is none yet: put a baseline, distill or prune stage before it.");
        var clock = Stopwatch.StartNew();
        var selected = PruneSelector.Select(student, spec.Include, spec.Exclude);
        if (selected.Count == 0)
            throw new InvalidOperationException(
                $"Stage '{spec.DisplayName}': include/exclude select no Linear or Conv weight of the {student.Family} student; " +
                "check the patterns against the module paths (distill validate lists them).");
        var masks = new MaskSet(selected);
        var (result, record) = spec.Method switch
        {
            QuantizeMethod.Kmeans => KMeans(run, student, selected, masks),
            QuantizeMethod.Qat => Qat(run, student, selected, masks),
            _ => Ptq(run, student, selected),
        };
        if (record.Weights.Count + record.Activations.Count > 0) record.Save(run.ModelDir(spec));
        run.Student = student;

        var extra = new Dictionary<string, object>(result.Extra)
        {
            ["method"] = spec.Method.ToString().ToLowerInvariant(),
            ["layer_bits"] = selected.ToDictionary(w => w.Name, w => spec.BitsFor(w.ModulePath)),
            ["sparsity"] = masks.OverallSparsity(),
        };
        if (spec.Method != QuantizeMethod.Kmeans)
        {
            extra["scheme"] = new QuantScheme(spec.Bits, spec.PerChannel, spec.Symmetric).ToString();
            if (spec.ActivationBits is { } ab)
            {
                extra["activation_bits"] = ab;
                // The metrics above were measured with the activations quantized (hooks attached during evaluation).
            }
        }
        foreach (var (k, v) in CompressionReport.Measure(run, student, new ArtifactOptions { Linear = record.Weights }, record.Activations)) extra[k] = v;
        return result with { WallSeconds = clock.Elapsed.TotalSeconds, Extra = extra };
    }

    private (StageResult, QuantizationRecord) KMeans(RunContext run, DistillModel student, IReadOnlyList<PrunableWeight> selected, MaskSet masks)
    {
        bool adam = (spec.CentroidUpdate ?? CentroidUpdate.Adam) == CentroidUpdate.Adam;
        var shared = new SharedWeights(selected.Select(w => (w, spec.BitsFor(w.ModulePath))), masks, adam);
        if (!spec.FineTune)
        {
            shared.Apply();
            return (Untrained(run, student), QuantizationRecord.Empty);
        }
        using var objective = new CompressionObjective(FineTuning.Build(run, spec.DisplayName, spec.Objective, student),
            ("masks", masks), ("shared", shared));
        return (StageTraining.Train(run, spec, student, objective, [new SharedWeightsCallback(shared)]), QuantizationRecord.Empty);
    }

    private (StageResult, QuantizationRecord) Qat(RunContext run, DistillModel student, IReadOnlyList<PrunableWeight> selected, MaskSet masks)
    {
        var qat = new QatWeights(selected.Select(w => (w, Scheme(w))), masks);
        var acts = spec.ActivationBits is { } bits ? new ActivationQuantizers(selected.Select(w => (w.ModulePath, bits))) : null;
        if (!spec.FineTune)
        {
            // Without training QAT is PTQ of the weights; activation ranges would never be observed.
            if (acts is not null)
                throw new InvalidOperationException($"Stage '{spec.DisplayName}': method qat with fine_tune: false cannot observe activation ranges; use method: ptq.");
            qat.Start();
            return (Untrained(run, student), new QuantizationRecord(qat.Grids(), []));
        }
        var states = new List<(string, torch.nn.Module)> { ("masks", masks), ("qat", qat) };
        if (acts is not null) states.Add(("activations", acts));
        using var objective = new CompressionObjective(FineTuning.Build(run, spec.DisplayName, spec.Objective, student), [.. states]);
        var result = StageTraining.Train(run, spec, student, objective, [new QatCallback(qat, acts, student)]);
        return (result, new QuantizationRecord(qat.Grids(), acts?.Ranges ?? []));
    }

    private (StageResult, QuantizationRecord) Ptq(RunContext run, DistillModel student, IReadOnlyList<PrunableWeight> selected)
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
            acts = new ActivationQuantizers(selected.Select(w => (w.ModulePath, bits))) { Mode = ActivationQuantizers.ObserverMode.Calibrate };
            acts.Attach(student);
            Calibrate(run, student);
            acts.Mode = ActivationQuantizers.ObserverMode.Frozen;
        }
        try
        {
            return (Untrained(run, student), new QuantizationRecord(grids, acts?.Ranges ?? []));
        }
        finally { acts?.Detach(); }
    }

    /// <summary>Runs <c>calibration_batches</c> training batches (eval mode, no gradients) so the observers see real inputs.</summary>
    private void Calibrate(RunContext run, DistillModel student)
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

    private QuantScheme Scheme(PrunableWeight w) => new(spec.BitsFor(w.ModulePath), spec.PerChannel, spec.Symmetric);

    /// <summary>Evaluates and saves a model quantized without training.</summary>
    private StageResult Untrained(RunContext run, DistillModel student)
    {
        var metrics = Evaluator.Evaluate(student, run.EvalData, run.Recipe.Data.EvalBatchSize, run.Device);
        CheckpointIO.SaveModel(run.ModelDir(spec), student, new CheckpointState
        {
            Stage = spec.DisplayName, Kind = spec.Kind, RecipeSha256 = run.RecipeSha256,
        });
        return new StageResult
        {
            Name = spec.DisplayName, Kind = spec.Kind, Metrics = metrics, Params = student.ParameterCount(),
            ModelBytes = student.ParameterBytes(), WallSeconds = 0,
            Extra = new Dictionary<string, object> { ["model_dir"] = Path.GetRelativePath(run.RunDir, run.ModelDir(spec)) },
        };
    }
}
