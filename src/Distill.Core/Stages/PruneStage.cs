using System.Diagnostics;
using Distill.Checkpoints;
using Distill.Compression.Pruning;
using Distill.Models.Pruning;
using Distill.Compression;
using Distill.Design;
using Distill.Recipes;
using Distill.Stages.Results;
using Distill.Training;
using TorchSharp;

namespace Distill.Stages;

/// <summary>
/// Prunes the run's current student (from a <c>baseline</c>, <c>distill</c> or earlier compression stage) and fine-tunes
/// it — with the recipe's distillation terms when the run has a teacher and terms (<c>objective: auto</c>), else with
/// cross-entropy — while a <see cref="PruningCallback"/> keeps pruned weights at exactly zero after every optimizer
/// step. The masks travel in the stage's resumable checkpoints (see <see cref="CompressionObjective"/>); in the final model
/// a pruned weight is an exact zero, which is how later stages (quantize, export) recover the masks.
/// </summary>
public sealed class PruneStage(PruneStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.Student;

    public StageOutput Run(StageInputs inputs)
    {
        var run = inputs.Run;
        var student = inputs.Student ?? throw new InvalidOperationException(
            $"Stage '{spec.DisplayName}' prunes the run's student, but there is none yet: put a baseline or distill stage before it.");
        var clock = Stopwatch.StartNew();
        if (spec.Method == PruneMethod.Structured) return RunStructured(inputs, student, clock);
        var selected = PruneSelector.Select(student, spec.Include, spec.Exclude);
        if (selected.Count == 0)
            throw new InvalidOperationException(
                $"Stage '{spec.DisplayName}': include/exclude select no Linear or Conv weight of the {student.Family} student; " +
                "check the patterns against the module paths (distill validate lists them).");
        var plan = BuildPlan();
        var masks = new MaskSet(selected);
        if (plan.Schedule is { } schedule && spec.FineTune)
        {
            long total = Trainer.TotalSteps(run.TrainFor(spec), run.TrainData.Count);
            if (schedule.EndStep > total)
                throw new InvalidOperationException(
                    $"Stage '{spec.DisplayName}': schedule.end_step {schedule.EndStep} is beyond the stage's {total} training steps; " +
                    "lower end_step or train longer.");
        }

        PruneResult result;
        if (spec.FineTune)
        {
            string? tb = run.Recipe.Output.Tensorboard ? Path.Combine(run.RunDir, "tb", spec.DisplayName) : null;
            using var objective = new CompressionObjective(FineTuning.Build(inputs, spec, spec.Objective, student, spec.Terms), ("masks", masks));
            result = StageTraining.Train<PruneResult>(run, spec, student, objective, [new PruningCallback(masks, plan, tb)]);
        }
        else
        {
            plan.Start(masks);
            masks.Apply();
            result = StageTraining.Evaluated<PruneResult>(run, spec, student);
        }
        result = result.WithEstimate<PruneResult>(inputs.Estimate(student)) with
        {
            WallSeconds = clock.Elapsed.TotalSeconds,
            Sparsity = masks.OverallSparsity(),
            PrunedWeights = masks.TotalWeights,
            LayerSparsity = masks.Names.ToDictionary(n => n, masks.Sparsity),
        };
        return new StageOutput(result, student);
    }

    /// <summary>Removes whole units, rebuilds the smaller student, then fine-tunes it (when <c>fine_tune</c>).</summary>
    private StageOutput RunStructured(StageInputs inputs, Models.DistillModel student, Stopwatch clock)
    {
        var run = inputs.Run;
        var units = spec.Units is { } listed ? listed.Distinct().ToList() : StructuredPruning.DefaultUnits(student.Family);
        var (all, uniform) = StructuredPruning.Groups(student, units);
        var include = (spec.Include ?? PruneSelector.DefaultInclude).Select(p => new ModuleGlob(p)).ToList();
        var exclude = (spec.Exclude ?? PruneSelector.DefaultExclude).Select(p => new ModuleGlob(p)).ToList();
        var groups = all.Where(g => ModuleGlob.AnyMatch(include, g.Module) && !ModuleGlob.AnyMatch(exclude, g.Module)).ToList();
        if (groups.Count == 0)
            throw new InvalidOperationException(
                $"Stage '{spec.DisplayName}': include/exclude select no unit group of the {student.Family} student; its groups are {string.Join(", ", all.Select(g => g.Module))}.");
        var ffnAll = all.Where(g => g.Kind == PruneUnit.Ffn).ToList();
        int ffnSelected = groups.Count(g => g.Kind == PruneUnit.Ffn);
        if (uniform && ffnSelected > 0 && ffnSelected != ffnAll.Count)
            throw new InvalidOperationException(
                $"Stage '{spec.DisplayName}': a {student.Family} model has one intermediate_size for all layers, so structured pruning must cover every layer's FFN; " +
                $"the patterns leave out {string.Join(", ", ffnAll.Except(groups).Select(g => g.Module))}.");

        Dictionary<string, double[]> scores;
        if (spec.Score == UnitScore.Taylor)
        {
            using var objective = new CompressionObjective(FineTuning.Build(inputs, spec, spec.Objective, student, spec.Terms));
            int batch = run.TrainFor(spec).BatchSize;
            var order = Trainer.Permutation(run.TrainData.Count, run.TrainFor(spec).Seed, 0);
            int count = Math.Min(spec.ImportanceBatches, order.Length / batch);
            scores = StructuredPruning.TaylorScores(student, groups, count,
                b => run.TrainData.GetBatch(order.AsSpan(b * batch, batch)).To(run.Device), (m, b) => objective.Compute(m, b).Total);
        }
        else scores = groups.ToDictionary(g => g.Module, g => StructuredPruning.MagnitudeScores(student, g));

        var overrides = (spec.LayerSparsity ?? []).Select(kv => (Pattern: new ModuleGlob(kv.Key), Sparsity: kv.Value)).ToList();
        double SparsityOf(string module)
        {
            foreach (var (pattern, s) in overrides) if (pattern.IsMatch(module)) return s;
            return spec.Sparsity!.Value;
        }
        var keep = groups.ToDictionary(g => g.Module, g => StructuredPruning.Keep(scores[g.Module], SparsityOf(g.Module)));
        long paramsBefore = student.ParameterCount();
        var smaller = StructuredPruning.Shrink(student, groups, keep, Models.ModelRegistry.Default).to(run.Device);

        PruneResult result;
        if (spec.FineTune)
        {
            using var objective = new CompressionObjective(FineTuning.Build(inputs, spec, spec.Objective, smaller, spec.Terms));
            result = StageTraining.Train<PruneResult>(run, spec, smaller, objective);
        }
        else result = StageTraining.Evaluated<PruneResult>(run, spec, smaller);
        var estimate = inputs.Estimate(smaller);
        // The unpruned student (whose stage reports no latency) and the pruned one, timed in alternation so that both
        // see the same machine load; the pair replaces the estimate's single measurement of the pruned model.
        var latency = LatencyProfiler.MedianMsPerBatch([student, smaller], run.EvalData, run.Recipe.Data.EvalBatchSize, run.Device);
        result = result.WithEstimate<PruneResult>(estimate with { LatencyMsPerBatch = latency[1] }) with
        {
            WallSeconds = clock.Elapsed.TotalSeconds,
            Method = "structured",
            Units = [.. units.Select(StructuredPruning.Name)],
            ParamsBefore = paramsBefore,
            KeptUnits = keep.ToDictionary(kv => kv.Key, kv => kv.Value.Length),
            RemovedUnits = groups.ToDictionary(g => g.Module, g => g.Count - keep[g.Module].Length),
            Config = (System.Text.Json.Nodes.JsonObject)System.Text.Json.JsonSerializer.SerializeToNode(smaller.Config, smaller.Config.GetType())!,
            Fp32BytesBefore = CompressionStats.Fp32Bytes(student),
            LatencyMsPerBatchBefore = latency[0],
        };
        return new StageOutput(result, smaller);
    }

    private PruningPlan BuildPlan()
    {
        if (spec.Method == PruneMethod.NM) return PruningPlan.NM(spec.Pattern!);
        double sparsity = spec.Sparsity!.Value;
        var overrides = (spec.LayerSparsity ?? []).Select(kv => (new ModuleGlob(kv.Key), kv.Value)).ToList();
        var schedule = spec.Schedule is { } s
            ? new CubicSparsitySchedule(s.InitialSparsity, sparsity, s.StartStep, s.EndStep, s.Frequency)
            : null;
        return PruningPlan.Magnitude(spec.Scope, sparsity, overrides, schedule);
    }
}
