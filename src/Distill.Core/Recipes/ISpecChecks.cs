namespace Distill.Recipes;

/// <summary>
/// A stage spec with checks of its own, reported like every other recipe error (file, line, key path) before anything
/// trains: <see cref="Check"/> by <see cref="RecipeLoader"/> (keys that constrain each other), <see cref="CheckModules"/>
/// by <see cref="RecipeValidator"/> (module-path patterns against the models built on CPU).
/// Each problem names the spec key it is about (<c>schedule.end_step</c>), relative to the stage's mapping.
/// </summary>
public interface ISpecChecks
{
    IEnumerable<(string Key, string Message)> Check(Recipe recipe);

    /// <param name="studentModules">The student's <c>named_modules()</c> paths.</param>
    /// <param name="teacherModules">The teacher's <c>named_modules()</c> paths.</param>
    IEnumerable<(string Key, string Message)> CheckModules(IReadOnlySet<string> studentModules, IReadOnlySet<string> teacherModules) => [];
}
