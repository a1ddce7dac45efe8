using Distill.Schema;

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

    /// <summary>Text datasets: folder of the tokenizer (HF <c>vocab.txt</c> or <c>tokenizer.json</c>, optional <c>tokenizer_config.json</c>), relative to the recipe's folder.</summary>
    [ExistingPath(Folder = true)] public string? Tokenizer { get; init; }

    /// <summary>Text datasets: tokens per example including [CLS]/[SEP]; longer texts are truncated. Batches are padded to their longest example.</summary>
    [Bounds(3, 65536)] public int MaxLength { get; init; } = 64;
}

/// <summary>Pre-processing applied when batches are built.</summary>
public sealed record PreprocessSpec
{
    /// <summary>Images: subtract this mean and divide by <c>std</c> after scaling pixels to [0, 1]. Null = no normalisation.</summary>
    public List<double>? Mean { get; init; }

    public List<double>? Std { get; init; }
}
