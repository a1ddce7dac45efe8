namespace Distill.Recipes;

/// <summary>
/// The whole pre-flight check that <c>distill validate</c> and <c>distill run</c> call before any training tensor is
/// allocated: <see cref="RecipeLoader.Load"/> (file, YAML, overrides, binding, recipe-level checks), then, if that
/// succeeded, <see cref="RecipeValidator.Validate"/> (module paths on a CPU copy, one-example shape probe for the
/// loss terms). Callers print each error's <see cref="RecipeError.ToString"/> and exit with code 2 when any is returned.
/// </summary>
public static class RecipeValidation
{
    /// <summary>Loads and validates a recipe. The recipe is returned only when there are no errors.</summary>
    public static (Recipe? Recipe, IReadOnlyList<RecipeError> Errors) Check(string path, IReadOnlyList<string>? overrides = null)
    {
        var loaded = RecipeLoader.Load(path, overrides);
        if (!loaded.Succeeded) return (null, loaded.Errors);
        var errors = RecipeValidator.Validate(loaded);
        return (errors.Count == 0 ? loaded.Recipe : null, errors);
    }
}
