using Distill.Compression;

namespace Distill.Recipes;

/// <summary>Checks of a compression stage's <c>terms:</c> key (the <c>distill.terms</c>, by name, its KD fine-tuning uses).</summary>
public static class FineTuneTerms
{
    public static IEnumerable<(string Key, string Message)> Check(List<string>? terms, FineTuneObjective objective, Recipe recipe)
    {
        if (terms is null) yield break;
        var names = recipe.Distill.Terms.Select(t => t.DisplayName).ToList();
        string known = names.Count == 0 ? "distill.terms is empty" : $"the terms are {string.Join(", ", names)}";
        if (objective == FineTuneObjective.Ce)
            yield return ("terms", "'terms' chooses the distillation terms of the fine-tuning, and objective: ce uses none; remove one of them");
        if (terms.Count == 0)
            yield return ("terms", $"list at least one of distill.terms, or remove 'terms' to use all of them ({known})");
        for (int i = 0; i < terms.Count; i++)
            if (!names.Contains(terms[i], StringComparer.Ordinal))
                yield return ($"terms[{i}]", $"no distill term is named '{terms[i]}'; {known} (a term's name is its 'name', else its kind)");
        foreach (var dup in terms.GroupBy(t => t, StringComparer.Ordinal).Where(g => g.Count() > 1))
            yield return ("terms", $"'{dup.Key}' is listed twice");
    }
}
