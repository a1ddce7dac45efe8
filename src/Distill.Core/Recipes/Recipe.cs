using Distill.Schema;

namespace Distill.Recipes;

/// <summary>
/// A distillation recipe, bound from YAML. Keys are snake_case; unknown keys are errors.
/// See README "Recipe reference".
/// </summary>
public sealed record Recipe
{
    /// <summary>
    /// The model distilled from. Trained by a <c>train_teacher</c> stage unless <c>checkpoint</c> is given. A recipe whose
    /// stages need no teacher (only <c>baseline</c> and <c>export</c>) may leave it out.
    /// </summary>
    public ModelSpec Teacher { get; init; } = new();

    /// <summary>Whether the recipe has a teacher section (a family is known once it is resolved).</summary>
    public bool HasTeacher => Teacher.Model.Length > 0 || Teacher.Pretrained is not null;

    /// <summary>The model distilled into.</summary>
    [RequiredKey] public ModelSpec Student { get; init; } = new();

    [RequiredKey] public DataSpec Data { get; init; } = new();

    /// <summary>Loss terms of the <c>distill</c> stages.</summary>
    public DistillSpec Distill { get; init; } = new();

    /// <summary>Training settings shared by all stages; a stage's own <c>train:</c> overrides single keys.</summary>
    public TrainSpec Train { get; init; } = new();

    public OutputSpec Output { get; init; } = new();

    /// <summary>Stages, run in order.</summary>
    [RequiredKey] public List<StageSpec> Stages { get; init; } = [];
}
