namespace Distill.Recipes;

/// <summary>
/// The outcome of <see cref="RecipeLoader.Load"/>: the bound recipe when the file had no errors, else every error found.
/// Also carries where each bound record came from, so <see cref="RecipeValidator"/> can place its errors.
/// </summary>
public sealed class RecipeLoadResult
{
    internal RecipeLoadResult(string path, Recipe? recipe, IReadOnlyList<RecipeError> errors, RecipeSource? source)
    {
        Path = path;
        Recipe = errors.Count == 0 ? recipe : null;
        Errors = errors;
        Source = source;
    }

    /// <summary>The recipe file as given.</summary>
    public string Path { get; }

    /// <summary>The bound recipe; null when there are errors. Paths in it are absolute; each stage's <c>Train</c> is its effective settings.</summary>
    public Recipe? Recipe { get; }

    /// <summary>All errors, in file order (override errors last). Empty on success.</summary>
    public IReadOnlyList<RecipeError> Errors { get; }

    public bool Succeeded => Errors.Count == 0 && Recipe is not null;

    internal RecipeSource? Source { get; }
}
