namespace Distill.Stages;

/// <summary>Trains the recipe's teacher from scratch with cross-entropy; it becomes the run's teacher.</summary>
public sealed class TrainTeacherStage(TrainTeacherStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.Teacher;

    public StageResult Run(RunContext run)
    {
        var teacher = run.BuildModel(run.Recipe.Teacher, run.TrainFor(spec).Seed);
        var result = StageTraining.Train(run, spec, teacher, new Training.CrossEntropyObjective());
        run.Teacher = teacher;
        return result;
    }
}
