namespace Distill.Stages;

/// <summary>One step of a run (train the teacher, train a baseline, distill, prune, ...).</summary>
public interface IStage
{
    /// <summary>The model this stage leaves in the run (saved under <c>&lt;run&gt;/models/&lt;stage&gt;/</c>).</summary>
    ModelRole Produces { get; }

    /// <summary>Runs the stage; reads and updates the models held by <paramref name="run"/>, returns what goes into summary.json.</summary>
    StageResult Run(RunContext run);

    /// <summary>Called instead of <see cref="Run"/> when a resumed run finds the stage complete (after its model was reloaded).</summary>
    void OnResumed(RunContext run) { }
}
