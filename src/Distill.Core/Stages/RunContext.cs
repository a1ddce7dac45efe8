using Distill.Data;
using Distill.Hf;
using Distill.Models;
using Distill.Models.Init;
using Distill.Recipes;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Stages;

/// <summary>State shared by the stages of one run: the recipe, the run folder, the data and the current teacher and student.</summary>
public sealed class RunContext
{
    private IDataset? _train;
    private IReadOnlyList<EvalSplit>? _evals;

    public required Recipe Recipe { get; init; }

    public required string RecipePath { get; init; }

    public required string RecipeSha256 { get; init; }

    public required string RunDir { get; init; }

    public required Device Device { get; init; }

    /// <summary>True when the run continues from its checkpoints (<c>--resume</c>).</summary>
    public bool Resuming { get; init; }

    /// <summary>Callbacks added to every training stage besides TensorBoard and checkpoints (the CLI's progress display).</summary>
    public Func<string, IEnumerable<ITrainerCallback>> ExtraCallbacks { get; init; } = _ => [];

    /// <summary>Where stages report what they do (resume points, warnings).</summary>
    public TextWriter Log { get; init; } = TextWriter.Null;

    public DistillModel? Teacher { get; set; }

    public DistillModel? Student { get; set; }

    /// <summary>
    /// Set by a <c>design</c> stage: builds the designed student (its config, initialised from the teacher), drawing its
    /// initialisation from the generator. While set, <see cref="BuildModel(ModelSpec, Generator)"/> uses it instead of
    /// <c>recipe.student</c>, so later stages train the pick.
    /// </summary>
    public Func<Generator, DistillModel>? StudentFactory { get; set; }

    public DatasetKind DatasetKind => DatasetRegistry.Default.Get(Recipe.Data.Dataset);

    /// <summary>The splits as the pre-flight opened (and so checked) them, before the limits; null = opened on first use.</summary>
    public Runs.RunInputs? Inputs { get; init; }

    public IDataset TrainData => _train ??= SubsetDataset.Limit(
        Inputs?.Train ?? DatasetKind.Open(Recipe.Data, Recipe.Data.TrainSplit), Recipe.Data.TrainLimit, Recipe.Train.Seed);

    /// <summary>The first evaluation split (after <c>eval_limit</c>): the one reported as <c>metrics</c> and choosing the best checkpoint.</summary>
    public IDataset EvalData => EvalSplits[0].Data;

    /// <summary>Every evaluation split in the recipe's order, each after <c>eval_limit</c>.</summary>
    public IReadOnlyList<EvalSplit> EvalSplits => _evals ??= [.. ((IDataSettings)Recipe.Data).EvalSplitNames.Select((split, i) => new EvalSplit(split,
        SubsetDataset.Limit(Inputs?.Evals[i].Data ?? DatasetKind.Open(Recipe.Data, split), Recipe.Data.EvalLimit, Recipe.Train.Seed)))];

    /// <summary>Evaluates a model on every evaluation split: the first split's metrics and all of them.</summary>
    public (IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<SplitMetrics> BySplit) Evaluate(DistillModel model)
    {
        var bySplit = Evaluator.EvaluateAll(model, EvalSplits, Recipe.Data.EvalBatchSize, Device, Recipe.Data.Prefetch);
        return (bySplit[0].Metrics, bySplit);
    }

    /// <summary>Effective training settings of a stage: its own <c>train:</c> (already merged over the top level) or the top level.</summary>
    public TrainSpec TrainFor(StageSpec stage) => stage.Train ?? Recipe.Train;

    /// <summary>Resumable checkpoints of a stage: <c>&lt;run&gt;/checkpoints/&lt;stage&gt;/</c>.</summary>
    public string CheckpointDir(StageSpec stage) => Path.Combine(RunDir, "checkpoints", stage.DisplayName);

    /// <summary>The final model of a stage: <c>&lt;run&gt;/models/&lt;stage&gt;/</c>.</summary>
    public string ModelDir(StageSpec stage) => Path.Combine(RunDir, "models", stage.DisplayName);

    /// <summary>
    /// What building models added for the summary since the last stage ended (new pretrained heads, teacher
    /// initialisation): <see cref="Runs.RunExecutor"/> merges it into the next stage result's extra keys and clears it.
    /// </summary>
    public Dictionary<string, object> PendingExtra { get; } = new(StringComparer.Ordinal);

    /// <summary><see cref="BuildModel(ModelSpec, Generator)"/> with a fresh generator seeded with <paramref name="seed"/>.</summary>
    public DistillModel BuildModel(ModelSpec spec, long seed) => BuildModel(spec, ParamInit.Seeded(seed));

    /// <summary>
    /// Builds a fresh model of a recipe spec with its initialisation drawn from <paramref name="init"/> (a caller that
    /// initialises more, such as projectors, goes on drawing from it, as the global generator once went on), then fills it:
    /// a <c>pretrained</c> spec loads its HF folder strictly (a head resized to the dataset's classes, or missing from a
    /// base-model folder, is new: logged and recorded in <see cref="PendingExtra"/>; so is a pooler the folder lacks); an <c>init_from_teacher</c> student
    /// is derived from <see cref="Teacher"/>'s config and initialised from its weights (<see cref="TeacherInit"/>).
    /// </summary>
    public DistillModel BuildModel(ModelSpec spec, Generator init)
    {
        if (ReferenceEquals(spec, Recipe.Student) && StudentFactory is { } designed) return designed(init).to(Device);
        string role = ReferenceEquals(spec, Recipe.Teacher) ? "teacher" : ReferenceEquals(spec, Recipe.Student) ? "student" : "model";
        var family = ModelRegistry.Default.Get(spec.Model);
        DistillModel? teacher = null;
        if (spec.InitFromTeacher is not null)
            teacher = Teacher ?? throw new InvalidOperationException(
                $"{role}.init_from_teacher: the teacher is not available yet; run a train_teacher stage before this one, or give teacher.pretrained or teacher.checkpoint.");
        var config = spec.EffectiveConfig(teacher?.Config, spec.Pretrained is null ? null : EvalData.NumClasses, out var headNote);
        var model = ParamInit.Build(init, () => family.Build(config));
        try
        {
            if (spec.Pretrained is { } folder)
            {
                var report = HfPretrained.LoadInto(model, folder);
                Log.WriteLine($"[{role}] pretrained {folder}: {report}");
                if (headNote is not null) Log.WriteLine($"[{role}] warning: {headNote}");
                if (report.NewlyInitialised.Count > 0)
                    PendingExtra[$"{role}_new_head"] = new Dictionary<string, object>
                    {
                        ["pretrained"] = folder,
                        ["reason"] = headNote ?? "the folder holds no head of this kind (a base model or another head)",
                        ["keys"] = report.NewlyInitialised.Select(n => $"{n.Key} ({n.Reason})").ToList(),
                    };
                foreach (var part in report.NewParts)
                    Log.WriteLine($"[{role}] warning: {folder} has no {part.Name} ({string.Join(", ", part.Keys)}): it is newly initialised, as transformers' from_pretrained does");
                if (report.NewParts.Count > 0)
                    PendingExtra[$"{role}_new_parts"] = new Dictionary<string, object>
                    {
                        ["pretrained"] = folder,
                        ["parts"] = report.NewParts.Select(p => new Dictionary<string, object>
                        {
                            ["name"] = p.Name, ["keys"] = p.Keys.ToList(), ["reason"] = p.Reason,
                        }).ToList(),
                    };
            }
            if (spec.InitFromTeacher is { } fromTeacher)
            {
                var rules = StudentInitRegistry.Default.Get(spec.Model);
                var layers = fromTeacher.Layers.Resolve(rules.ShapeOf(teacher!.Config).Layers);
                var report = TeacherInit.Apply(model, teacher, layers, rules);
                Log.WriteLine($"[{role}] init_from_teacher ({fromTeacher.Layers}): {report}");
                PendingExtra[$"{role}_init_from_teacher"] = new Dictionary<string, object>
                {
                    ["teacher_layers"] = report.Layers.ToList(),
                    ["copied"] = report.Copied.Count,
                    ["truncated"] = report.Truncated.Count,
                };
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model.to(Device);
    }
}
