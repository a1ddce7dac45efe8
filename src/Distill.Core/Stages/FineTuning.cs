using Distill.Compression;
using Distill.Models;
using Distill.Recipes;
using Distill.Training;

namespace Distill.Stages;

/// <summary>Builds the objective a compression stage fine-tunes with (knowledge distillation from the run's teacher,
/// as in KD-aware pruning and KD-QAT, or plain cross-entropy).</summary>
public static class FineTuning
{
    /// <summary>True when <paramref name="choice"/> resolves to distillation in this run (with this teacher, or none).</summary>
    public static bool UsesDistillation(RunEnvironment run, DistillModel? teacher, FineTuneObjective choice) => choice switch
    {
        FineTuneObjective.Ce => false,
        FineTuneObjective.Distill => true,
        _ => run.Recipe.Distill.Terms.Count > 0 && teacher is not null,
    };

    /// <param name="termNames">The <c>distill.terms</c> (by name) to use; null = all. A head-pruned student can no longer
    /// be compared head by head with the teacher, so its stage leaves the attention term out this way.</param>
    public static IObjective Build(StageInputs inputs, StageSpec stage, FineTuneObjective choice, DistillModel student,
        IReadOnlyCollection<string>? termNames = null)
    {
        var run = inputs.Run;
        if (!UsesDistillation(run, inputs.Teacher, choice)) return CtcObjective.For(run.TrainData);
        var teacher = inputs.Teacher ?? throw new InvalidOperationException(
            $"Stage '{stage.DisplayName}' fine-tunes with objective: distill but the run has no teacher: add a train_teacher stage before it or set teacher.checkpoint.");
        if (run.Recipe.Distill.Terms.Count == 0)
            throw new InvalidOperationException($"Stage '{stage.DisplayName}' fine-tunes with objective: distill but the recipe has no distill.terms.");
        // Projectors drawn from the stage's seed: before, they took whatever the global generator was at by then.
        return DistillTerms.Objective(run, stage.DisplayName, student, teacher, ParamInit.Seeded(run.TrainFor(stage).Seed), termNames);
    }
}
