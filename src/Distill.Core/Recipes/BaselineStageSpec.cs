
namespace Distill.Recipes;

/// <summary><c>kind: baseline</c> — trains a fresh student (same initialisation seed as <c>distill</c>) on labels alone.</summary>
public sealed record BaselineStageSpec : StageSpec
{
    public BaselineStageSpec() => Kind = "baseline";
}
