using Distill.Models;

namespace Distill.Models.Hf;

/// <summary>
/// Links a Distill model family (a <see cref="ModelRegistry"/> key whose model is an HF task-head class) to HF's
/// folder format, for recipes (<c>pretrained: &lt;hf-folder&gt;</c>) and <c>distill export</c>: which <c>model_type</c>
/// it reads, how its config record is read from config.json, which HF class its <see cref="DistillModel"/> is, and how
/// its classification head is resized when a dataset needs another number of labels, and the HF classes
/// (<see cref="Architectures"/>) a folder of it may hold. A family's <see cref="ModelFamily.Hf"/> returns it; the
/// <c>Hf.HfArchitectureRegistry</c> is built from those.
/// </summary>
/// <param name="Family">The <see cref="ModelRegistry"/> key ("bert", "vit", "wav2vec2").</param>
/// <param name="ModelType">HF <c>model_type</c> in config.json ("bert").</param>
/// <param name="BasePrefix">HF <c>base_model_prefix</c> without the dot; keys outside it are the head.</param>
public sealed record HfFamily(string Family, string ModelType, string BasePrefix)
{
    /// <summary>Reads the family's config record from the path of a config.json (throws naming the file when invalid).</summary>
    public required Func<string, IModelConfig> LoadConfig { get; init; }

    /// <summary>The HF class a model of this config is (e.g. <c>BertForSequenceClassification</c>); written as
    /// <c>architectures</c> on export and used for the loader's ignore lists.</summary>
    public required Func<IModelConfig, string> HeadArchitecture { get; init; }

    /// <summary>The number of classes the config's head predicts.</summary>
    public required Func<IModelConfig, int> NumLabels { get; init; }

    /// <summary>The config with a head of another width (class names dropped when their count no longer fits).</summary>
    public required Func<IModelConfig, int, IModelConfig> WithNumLabels { get; init; }

    /// <summary>The HF classes of the family (base model and task heads), each with its factory and loading rules.</summary>
    public IReadOnlyList<HfArchitecture> Architectures { get; init; } = [];
}
