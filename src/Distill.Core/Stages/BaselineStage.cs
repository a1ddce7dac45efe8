namespace Distill.Stages;

/// <summary>Trains a fresh student on labels alone: the reference a distilled student has to beat. Same seed, so the same
/// initial weights, as the <c>distill</c> stage's student.</summary>
public sealed class BaselineStage(BaselineStageSpec spec) : IStage
{
    public ModelRole Produces => ModelRole.Student;

    public StageResult Run(RunContext run)
    {
        var student = run.BuildModel(run.Recipe.Student, run.TrainFor(spec).Seed);
        var result = StageTraining.Train(run, spec, student, new Training.CrossEntropyObjective());
        run.Student = student;
        return result;
    }
}
