namespace Distill.Stages;

public sealed class TrainTeacherStage(TrainTeacherStageSpec spec) : IStage
{
    public TrainTeacherStageSpec Spec { get; } = spec;

    public StageResult Run(RunContext run) => throw new NotImplementedException();
}
