using Distill.Models;
using Distill.Recipes;
using Distill.Stages.Results;

namespace Distill.Stages;

/// <summary>Trains the recipe's teacher from scratch with cross-entropy; it becomes the run's teacher.</summary>
public sealed class TrainTeacherStage(TrainTeacherStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.Teacher;

    public StageOutput Run(StageInputs inputs)
    {
        var run = inputs.Run;
        var (teacher, report) = inputs.BuildTeacher(ParamInit.Seeded(run.TrainFor(spec).Seed));
        var result = StageTraining.Train<TrainTeacherResult>(run, spec, teacher, Training.CtcObjective.For(run.TrainData));
        return new StageOutput(result.WithBuild(report), teacher);
    }
}
