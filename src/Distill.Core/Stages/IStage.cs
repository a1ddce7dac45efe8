using Distill.Models;

namespace Distill.Stages;

/// <summary>One step of a run (train the teacher, train a baseline, distill, prune, ...).</summary>
public interface IStage
{
    /// <summary>The model this stage leaves in the run (saved under <c>&lt;run&gt;/models/&lt;stage&gt;/</c>).</summary>
    ModelRole Produces { get; }

    /// <summary>Runs the stage on the current models; returns its summary entry and what it produced.</summary>
    StageOutput Run(StageInputs inputs);

    /// <summary>Called instead of <see cref="Run"/> when a resumed run finds the stage complete, with the model reloaded
    /// from its folder (null for a stage that produces none); returns the design pick it restores, if any.</summary>
    DesignedStudent? OnResumed(RunEnvironment run, DistillModel? reloaded) => null;
}
