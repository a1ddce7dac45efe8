using Distill.Recipes;

namespace Distill.Cli.Commands;

/// <summary>Prints recipe errors, all of them, one per line as <c>file:line:col: key.path: message</c>.</summary>
internal static class RecipeErrors
{
    public static int Report(IReadOnlyList<RecipeError> errors, TextWriter output)
    {
        output.WriteLine($"error: the recipe has {errors.Count} problem{(errors.Count == 1 ? "" : "s")}:");
        foreach (var e in errors) output.WriteLine($"  {e}");
        return ExitCodes.InvalidInput;
    }
}
