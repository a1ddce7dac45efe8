namespace Distill.Recipes;

/// <summary>The dataset, its splits and pre-processing.</summary>
public sealed record DataSpec
{
    /// <summary>Dataset key (<c>mnist</c>, ...).</summary>
    [RequiredKey] public string Dataset { get; init; } = "";

    /// <summary>Folder holding the dataset files, relative to the recipe's folder.</summary>
    [RequiredKey, ExistingPath(Folder = true)] public string Path { get; init; } = "";

    /// <summary>Split trained on.</summary>
    public string TrainSplit { get; init; } = "train";

    /// <summary>Split evaluated on (every <c>eval_every</c> steps and at the end of each stage).</summary>
    public string EvalSplit { get; init; } = "test";

    /// <summary>Use only the first N training examples (after a seeded shuffle); null = all.</summary>
    [Bounds(1, int.MaxValue)] public int? TrainLimit { get; init; }

    /// <summary>Use only the first N evaluation examples; null = all.</summary>
    [Bounds(1, int.MaxValue)] public int? EvalLimit { get; init; }

    /// <summary>Evaluation-time batch size (no gradients, so larger than training's).</summary>
    [Bounds(1, 65536)] public int EvalBatchSize { get; init; } = 1000;

    public PreprocessSpec Preprocessing { get; init; } = new();
}

/// <summary>Pre-processing applied when batches are built.</summary>
public sealed record PreprocessSpec
{
    /// <summary>Images: subtract this mean and divide by <c>std</c> after scaling pixels to [0, 1]. Null = no normalisation.</summary>
    public List<double>? Mean { get; init; }

    public List<double>? Std { get; init; }
}
