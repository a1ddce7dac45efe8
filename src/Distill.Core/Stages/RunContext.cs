using Distill.Data;
using Distill.Models;
using Distill.Recipes;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Stages;

/// <summary>State shared by the stages of one run: the recipe, the run folder, the data and the current teacher and student.</summary>
public sealed class RunContext
{
    private IDataset? _train;
    private IDataset? _eval;

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
    /// Set by a <c>design</c> stage: builds the designed student (its config, initialised from the teacher) for a seed.
    /// While set, <see cref="BuildModel"/> uses it instead of <c>recipe.student</c>, so later stages train the pick.
    /// </summary>
    public Func<long, DistillModel>? StudentFactory { get; set; }

    public DatasetKind DatasetKind => DatasetRegistry.Default.Get(Recipe.Data.Dataset);

    public IDataset TrainData => _train ??= SubsetDataset.Limit(
        DatasetKind.Open(Recipe.Data, Recipe.Data.TrainSplit), Recipe.Data.TrainLimit, Recipe.Train.Seed);

    public IDataset EvalData => _eval ??= SubsetDataset.Limit(
        DatasetKind.Open(Recipe.Data, Recipe.Data.EvalSplit), Recipe.Data.EvalLimit, Recipe.Train.Seed);

    /// <summary>Effective training settings of a stage: its own <c>train:</c> (already merged over the top level) or the top level.</summary>
    public TrainSpec TrainFor(StageSpec stage) => stage.Train ?? Recipe.Train;

    /// <summary>Resumable checkpoints of a stage: <c>&lt;run&gt;/checkpoints/&lt;stage&gt;/</c>.</summary>
    public string CheckpointDir(StageSpec stage) => Path.Combine(RunDir, "checkpoints", stage.DisplayName);

    /// <summary>The final model of a stage: <c>&lt;run&gt;/models/&lt;stage&gt;/</c>.</summary>
    public string ModelDir(StageSpec stage) => Path.Combine(RunDir, "models", stage.DisplayName);

    /// <summary>Builds a fresh model of a recipe spec with its initialisation drawn from <paramref name="seed"/>.</summary>
    public DistillModel BuildModel(ModelSpec spec, long seed)
    {
        if (ReferenceEquals(spec, Recipe.Student) && StudentFactory is { } designed) return designed(seed).to(Device);
        var family = ModelRegistry.Default.Get(spec.Model);
        torch.manual_seed(seed);
        var model = family.Build(spec.Config ?? throw new InvalidOperationException($"The {spec.Model} model has no bound config."));
        return model.to(Device);
    }
}
