namespace Distill.Recipes;

/// <summary>The distillation objective: a weighted sum of named loss terms.</summary>
public sealed record DistillSpec
{
    public List<LossTermSpec> Terms { get; init; } = [];
}
