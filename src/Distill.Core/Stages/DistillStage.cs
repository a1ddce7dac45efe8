namespace Distill.Stages;

public sealed class DistillStage(DistillStageSpec spec) : IStage
{
    public DistillStageSpec Spec { get; } = spec;

    public StageResult Run(RunContext run) => throw new NotImplementedException();
}
