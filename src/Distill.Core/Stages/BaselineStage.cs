namespace Distill.Stages;

public sealed class BaselineStage(BaselineStageSpec spec) : IStage
{
    public BaselineStageSpec Spec { get; } = spec;

    public StageResult Run(RunContext run) => throw new NotImplementedException();
}
