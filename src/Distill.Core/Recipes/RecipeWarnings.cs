using Distill.Training;

namespace Distill.Recipes;

/// <summary>
/// What a valid recipe may still do badly on this machine, printed by <c>distill validate</c> and before <c>distill run</c>
/// starts (to stderr; the run goes on): <c>precision: bf16</c> on a CPU without native bf16 (<see cref="PrecisionChoice.Warning"/>).
/// </summary>
public static class RecipeWarnings
{
    public static IReadOnlyList<string> For(Recipe recipe) => For(recipe, CpuBf16Support.ThisMachine);

    /// <summary>The warnings for <paramref name="recipe"/> on a CPU described by <paramref name="cpu"/>.</summary>
    public static IReadOnlyList<string> For(Recipe recipe, CpuBf16Support cpu)
    {
        var warnings = new List<string>();
        static bool OnCpu(TrainSpec t) => t.Device.StartsWith("cpu", StringComparison.Ordinal);
        if (PrecisionChoice.Warning(recipe.Train.Precision, OnCpu(recipe.Train), cpu, "train.precision") is { } top) warnings.Add(top);
        for (int i = 0; i < recipe.Stages.Count; i++)
        {
            // A stage's own train: inherits the top-level keys it leaves out, so only its own bf16 is a new warning.
            if (recipe.Stages[i].Train is not { } own || (own.Precision == recipe.Train.Precision && own.Device == recipe.Train.Device)) continue;
            if (PrecisionChoice.Warning(own.Precision, OnCpu(own), cpu, $"stages.{i}.train.precision") is { } w) warnings.Add(w);
        }
        return warnings;
    }
}
