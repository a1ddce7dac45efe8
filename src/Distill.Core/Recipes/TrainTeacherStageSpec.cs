
namespace Distill.Recipes;

/// <summary><c>kind: train_teacher</c> — trains the teacher from its config with cross-entropy on the labels.</summary>
public sealed record TrainTeacherStageSpec : StageSpec
{
    public TrainTeacherStageSpec() => Kind = "train_teacher";
}
