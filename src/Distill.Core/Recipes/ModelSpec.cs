using Distill.Models;

namespace Distill.Recipes;

/// <summary>A teacher or student: a model family with its config, optionally with weights from a checkpoint.</summary>
public sealed record ModelSpec
{
    /// <summary>Model family key (<c>mlp</c>, <c>cnn</c>, <c>vit</c>, <c>bert</c>, ...).</summary>
    [RequiredKey] public string Model { get; init; } = "";

    /// <summary>The family's config record; its keys depend on <c>model</c>. Omitted keys take the family defaults.</summary>
    [TypeFromSibling("model", typeof(ModelConfigResolver))]
    public IModelConfig? Config { get; init; }

    /// <summary>Weights to start from: a Distill checkpoint folder or file. When given for the teacher, no <c>train_teacher</c> stage is needed.</summary>
    [ExistingPath(FileOrFolder = true)]
    public string? Checkpoint { get; init; }
}
