using System.Diagnostics;
using Distill.Compression;
using Distill.Compression.Artifact;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Compression.Weightless;
using Distill.Models;
using Distill.Recipes;
using Distill.Stages.Results;
using Distill.Training;
using TorchSharp;

namespace Distill.Stages;

/// <summary>
/// One step of Weightless (<see cref="WeightlessEncoder"/>): encodes the selected weights of the run's student as
/// Bloomier tables, writes what the tables decode to into them (false positives included) and freezes them with every
/// weight earlier weightless stages encoded; then fine-tunes the rest of the student with the recipe's objective,
/// masks held and shared values kept shared (<see cref="SharedWeights.OfCurrentValues"/>). The tables (earlier ones
/// carried forward) are saved as <c>weightless.safetensors</c> beside the model, where the export stage finds them.
/// </summary>
public sealed class WeightlessStage(WeightlessStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.Student;

    public StageOutput Run(StageInputs inputs)
    {
        var run = inputs.Run;
        var student = inputs.Student ?? throw new InvalidOperationException(
            $"Stage '{spec.DisplayName}' encodes the run's student, but there is none yet: put distill, prune and quantize (kmeans) stages before it.");
        var clock = Stopwatch.StartNew();
        string? producer = StudentProducer.ModelDirBefore(run, spec);
        if (producer is not null && QuantizationRecord.Load(producer).Weights.Count > 0)
            throw new InvalidOperationException(
                $"Stage '{spec.DisplayName}': the student comes with linear quantization grids (a qat/ptq quantize stage); " +
                "weightless stores shared values from k-means: use quantize with method: kmeans before it.");
        var earlier = producer is null ? WeightlessRecord.Empty : WeightlessRecord.Load(producer);
        var all = PruneSelector.Select(student, null, []);
        var selected = PruneSelector.Select(student, spec.Layers, []);
        if (selected.Count == 0)
            throw new InvalidOperationException($"Stage '{spec.DisplayName}': layers [{string.Join(", ", spec.Layers)}] select no Linear or Conv weight of the {student.Family} student.");
        if (selected.FirstOrDefault(w => earlier.Tables.ContainsKey(w.Name)) is { } again)
            throw new InvalidOperationException($"Stage '{spec.DisplayName}': '{again.Name}' was encoded by an earlier weightless stage; list each layer in one stage.");

        var layers = new List<WeightlessLayer>();
        foreach (var w in selected)
        {
            var layer = WeightlessEncoder.Encode(w, spec.BitsFor(w.ModulePath), checked((uint)spec.HashSeed), spec.CellsPerKey);
            layers.Add(layer);
            run.Log.WriteLine($"[{spec.DisplayName}] {w.Name} [{string.Join("x", layer.Shape)}]: {layer.Nonzeros} non-zeros, {layer.Codes} codes, " +
                              $"t = {layer.Bits}, {layer.Cells} cells, {layer.FalsePositives} false positives ({layer.FalsePositiveRate:P2}, expected " +
                              $"{layer.ExpectedFalsePositiveRate:P2}), {layer.RecordBytes} B");
        }
        var record = earlier.With(layers.Select(l => (l.Name, l.Table)));
        var frozen = all.Where(w => record.Tables.ContainsKey(w.Name)).ToList();
        var rest = all.Where(w => !record.Tables.ContainsKey(w.Name)).ToList();

        WeightlessResult result;
        if (spec.FineTune && rest.Count > 0)
        {
            foreach (var w in frozen) w.Weight.requires_grad = false;
            try
            {
                var masks = new MaskSet(rest);
                var shared = SharedWeights.OfCurrentValues(rest.Where(w => DistinctNonzeros(w) <= 256), masks);
                using var objective = new CompressionObjective(FineTuning.Build(inputs, spec, spec.Objective, student, spec.Terms),
                    ("masks", masks), ("shared", shared));
                result = StageTraining.Train<WeightlessResult>(run, spec, student, objective, [new SharedWeightsCallback(shared), new HeldMasks(masks)]);
            }
            finally
            {
                foreach (var w in frozen) w.Weight.requires_grad = true;
            }
        }
        else result = StageTraining.Evaluated<WeightlessResult>(run, spec, student);
        record.Save(run.ModelDir(spec));

        var options = ExportOptions(run) with { Bloomier = record.Tables };
        var estimate = inputs.Estimate(student, options);
        result = result.WithEstimate<WeightlessResult>(estimate) with
        {
            WallSeconds = clock.Elapsed.TotalSeconds,
            Layers = layers.ToDictionary(l => l.Name, l => new WeightlessLayerResult
            {
                Shape = l.Shape, Nonzeros = l.Nonzeros, Bits = l.Bits, Cells = l.Cells, Codes = l.Codes, FalsePositives = l.FalsePositives,
                FalsePositiveRate = l.FalsePositiveRate, ExpectedFalsePositiveRate = l.ExpectedFalsePositiveRate, Bytes = l.RecordBytes,
                CompressionRatio = 4.0 * l.Shape.Aggregate(1L, (a, b) => a * b) / l.RecordBytes, Attempts = l.Table.Filter.Attempts,
                DecodeMs = l.DecodeMs,
            }),
            Frozen = frozen.Select(w => w.Name).ToList(),
        };
        return new StageOutput(result, student);
    }

    private static long DistinctNonzeros(PrunableWeight w)
    {
        using var scope = torch.NewDisposeScope();
        var weight = w.Weight.detach();
        return torch.unique(weight.masked_select(weight.ne(0)), sorted: true).output.numel();
    }

    /// <summary>The encoder options of the recipe's next export stage (defaults without one).</summary>
    private ArtifactOptions ExportOptions(RunEnvironment run) =>
        run.Recipe.Stages.SkipWhile(s => !ReferenceEquals(s, spec)).OfType<ExportStageSpec>().FirstOrDefault()?.ArtifactOptions() ?? new ArtifactOptions();

    /// <summary>Keeps pruned entries of weights that are not shared (more than 256 distinct values) at zero.</summary>
    private sealed class HeldMasks(MaskSet masks) : ITrainerCallback
    {
        public void OnStageStart(TrainingSession session) => masks.Apply();

        public void OnAfterOptimizerStep(TrainingSession session) => masks.Apply();
    }
}
