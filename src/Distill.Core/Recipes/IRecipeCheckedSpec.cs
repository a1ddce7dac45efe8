namespace Distill.Recipes;

/// <summary>
/// A stage spec whose values can only be checked against the rest of the recipe (a design stage's search space against
/// the student's family and config). <see cref="RecipeLoader"/> calls <see cref="Check"/> after binding, when the
/// student and data sections bound cleanly, and reports each problem at the spec's key.
/// </summary>
public interface IRecipeCheckedSpec
{
    /// <summary>Problems as (key relative to the spec, message); empty when fine. Never throws for bad values.</summary>
    IEnumerable<(string Key, string Message)> Check(Recipe recipe);
}
