using Distill.Losses;
using Distill.Models;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Stages;

/// <summary>
/// The one builder of a run's distillation objective from the recipe's <c>distill.terms</c>: the distill stage, the
/// compression stages' KD fine-tuning (<see cref="FineTuning"/>) and the design stage's proxy runs all get
/// their terms here, so they probe shapes, size projectors and place them the same way.
/// </summary>
public static class DistillTerms
{
    /// <summary>The terms of <c>distill.terms</c> (only those named in <paramref name="names"/>, when given) for this
    /// student/teacher pair; their projectors are on the run's device.</summary>
    /// <param name="stageName">For the error when <paramref name="names"/> selects no term.</param>
    /// <param name="init">Where projector initialisations are drawn (a stage that built the student goes on drawing from
    /// the student's generator, as both once drew from torch's global one).</param>
    public static List<ILossTerm> Build(RunEnvironment run, string stageName, DistillModel student, DistillModel teacher, Generator init,
        IReadOnlyCollection<string>? names = null)
    {
        var specs = run.Recipe.Distill.Terms.Where(t => names is null || names.Contains(t.DisplayName)).ToList();
        if (specs.Count == 0)
            throw new InvalidOperationException(names is null
                ? $"Stage '{stageName}' distils, but the recipe has no distill.terms."
                : $"Stage '{stageName}' uses the distill terms [{string.Join(", ", names)}], but distill.terms has none of them " +
                  $"(its terms: {string.Join(", ", run.Recipe.Distill.Terms.Select(t => t.DisplayName))}).");
        var shapes = ShapeProbe.Measure(student, teacher, run.DatasetKind.Inputs(run.Recipe.Data));
        var terms = ParamInit.Build(init, () => specs.Select(t => LossRegistry.Default.Create(t, shapes)).ToList());
        foreach (var t in terms) t.Trainable?.to(run.Device);
        return terms;
    }

    /// <summary>The objective of <see cref="Build"/>'s terms against the live teacher (no cache).</summary>
    public static DistillObjective Objective(RunEnvironment run, string stageName, DistillModel student, DistillModel teacher, Generator init,
        IReadOnlyCollection<string>? names = null) =>
        new(teacher, Build(run, stageName, student, teacher, init, names));
}
