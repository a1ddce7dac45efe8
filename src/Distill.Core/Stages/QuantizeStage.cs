using System.Diagnostics;
using Distill.Checkpoints;
using Distill.Compression;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Models;
using Distill.Training;

namespace Distill.Stages;

/// <summary>
/// Quantizes the run's current student. k-means weight sharing (Deep Compression): the selected weights' non-zeros
/// are clustered per layer, every entry replaced by its centroid, and the centroids fine-tuned (with the recipe's
/// distillation terms when the run has a teacher and terms, else cross-entropy) by the sum of their entries'
/// gradients, pruned zeros held. The final model holds at most 2^bits distinct non-zero values per quantized weight,
/// which the export stage stores as a codebook. Centroids, assignments and masks travel in the stage's checkpoints.
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
        var shared = new SharedWeights(selected.Select(w => (w, spec.BitsFor(w.ModulePath))), masks, spec.CentroidUpdate == CentroidUpdate.Adam);

        StageResult result;
        if (spec.FineTune)
        {
            using var objective = new CompressionObjective(FineTuning.Build(run, spec.DisplayName, spec.Objective, student),
                ("masks", masks), ("shared", shared));
            result = StageTraining.Train(run, spec, student, objective, [new SharedWeightsCallback(shared)]);
        }
        else
        {
            shared.Apply();
            var metrics = Evaluator.Evaluate(student, run.EvalData, run.Recipe.Data.EvalBatchSize, run.Device);
            CheckpointIO.SaveModel(run.ModelDir(spec), student, new CheckpointState
            {
                Stage = spec.DisplayName, Kind = spec.Kind, RecipeSha256 = run.RecipeSha256,
            });
            result = new StageResult
            {
                Name = spec.DisplayName, Kind = spec.Kind, Metrics = metrics, Params = student.ParameterCount(),
                ModelBytes = student.ParameterBytes(), WallSeconds = 0,
                Extra = new Dictionary<string, object> { ["model_dir"] = Path.GetRelativePath(run.RunDir, run.ModelDir(spec)) },
            };
        }
        run.Student = student;
        var extra = new Dictionary<string, object>(result.Extra)
        {
            ["method"] = spec.Method.ToString().ToLowerInvariant(),
            ["layer_bits"] = shared.Names.ToDictionary(n => n, shared.BitsOf),
            ["sparsity"] = masks.OverallSparsity(),
        };
        foreach (var (k, v) in CompressionReport.Measure(run, student)) extra[k] = v;
        return result with { WallSeconds = clock.Elapsed.TotalSeconds, Extra = extra };
    }
}
