
namespace Distill.Recipes;

/// <summary><c>kind: distill</c> — trains a fresh student against the teacher with the recipe's <c>distill.terms</c>.</summary>
public sealed record DistillStageSpec : StageSpec
{
    public DistillStageSpec() => Kind = "distill";
}
