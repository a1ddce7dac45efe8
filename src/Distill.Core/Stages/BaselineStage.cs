using Distill.Models;
using Distill.Recipes;
using Distill.Stages.Results;

namespace Distill.Stages;

/// <summary>Trains a fresh student on labels alone: the reference a distilled student has to beat. Same seed, so the same
/// initial weights, as the <c>distill</c> stage's student.</summary>
public sealed class BaselineStage(BaselineStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.Student;

    public StageOutput Run(StageInputs inputs)
    {
        var run = inputs.Run;
        var (student, report) = inputs.BuildStudent(ParamInit.Seeded(run.TrainFor(spec).Seed));
        var result = StageTraining.Train<BaselineResult>(run, spec, student, Training.CtcObjective.For(run.TrainData));
        return new StageOutput(result.WithBuild(report), student);
    }
}
