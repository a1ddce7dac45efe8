using Distill.Recipes;

namespace Distill.Stages;

/// <summary>The stage whose student a later stage receives: what it left beside its model (linear grids, Bloomier tables) belongs to that student.</summary>
internal static class StudentProducer
{
    /// <summary>The model folder of the last stage before <paramref name="stage"/> that produced the student, or null.</summary>
    public static string? ModelDirBefore(RunEnvironment run, StageSpec stage)
    {
        StageSpec? producer = null;
        foreach (var s in run.Recipe.Stages)
        {
            if (ReferenceEquals(s, stage)) break;
            if (StageRegistry.Default.Get(s.Kind).Create(s).Produces == ModelRole.Student) producer = s;
        }
        return producer is null ? null : run.ModelDir(producer);
    }
}
