using Distill.Data;
using Distill.Recipes;
using Distill.Training;
using static TorchSharp.torch;

namespace Distill.Stages;

/// <summary>
/// What every stage of one run sees and none changes: the recipe, the run folder, the device, the data splits, the log
/// and the callbacks. The models a stage works on come as explicit <see cref="StageInputs"/>, not from here.
/// </summary>
public sealed class RunEnvironment
{
    // Opened on first use and then the same instances for every stage (opening re-reads the files).
    private IDataset? _fullTrain, _train;
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

    public DatasetKind DatasetKind => DatasetRegistry.Default.Get(Recipe.Data.Dataset);

    /// <summary>The splits as the pre-flight opened (and so checked) them, before the limits; null = opened on first use.</summary>
    public RunInputs? Inputs { get; init; }

    /// <summary>The whole training split, before <c>train_limit</c> (a distill stage's transfer set reads beyond it).</summary>
    public IDataset FullTrainData => _fullTrain ??= Inputs?.Train ?? DatasetKind.Open(Recipe.Data, Recipe.Data.TrainSplit);

    public IDataset TrainData => _train ??= SubsetDataset.Limit(FullTrainData, Recipe.Data.TrainLimit, Recipe.Train.Seed);

    /// <summary>The first evaluation split (after <c>eval_limit</c>): the one reported as <c>metrics</c> and choosing the best checkpoint.</summary>
    public IDataset EvalData => EvalSplits[0].Data;

    /// <summary>Every evaluation split in the recipe's order, each after <c>eval_limit</c>.</summary>
    public IReadOnlyList<EvalSplit> EvalSplits => _evals ??= [.. ((IDataSettings)Recipe.Data).EvalSplitNames.Select((split, i) => new EvalSplit(split,
        SubsetDataset.Limit(Inputs?.Evals[i].Data ?? DatasetKind.Open(Recipe.Data, split), Recipe.Data.EvalLimit, Recipe.Train.Seed)))];

    /// <summary>Evaluates a model on every evaluation split: the first split's metrics and all of them.</summary>
    public (IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<SplitMetrics> BySplit) Evaluate(Models.DistillModel model)
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

    /// <summary>A stage's <see cref="ModelDir"/> relative to the run folder, as summary.json records it (<c>model_dir</c>).</summary>
    public string RelativeModelDir(StageSpec stage) => Path.GetRelativePath(RunDir, ModelDir(stage));
}
