
namespace Distill.Recipes;

/// <summary>
/// <c>kind: design_check</c> — times the run's current student (the trained, or compressed, final model) at a design
/// stage's deployment shape and checks it against that stage's latency budget. A miss is a warning in the log, the
/// summary (<c>warning</c>, <c>within_budget</c>) and the end-of-run table, never a silent pass.
/// </summary>
public sealed record DesignCheckStageSpec : StageSpec, IRecipeCheckedSpec
{
    public DesignCheckStageSpec() => Kind = "design_check";

    /// <summary>Name of the design stage whose budget and deployment apply; null = the nearest design stage before this one.</summary>
    public string? Design { get; init; }

    /// <summary>The design stage this check refers to, among the stages before it; null when there is none.</summary>
    public DesignStageSpec? DesignStage(Recipe recipe)
    {
        int self = recipe.Stages.FindIndex(s => ReferenceEquals(s, this));
        var before = (self < 0 ? recipe.Stages : recipe.Stages.Take(self)).OfType<DesignStageSpec>().ToList();
        return Design is null ? before.LastOrDefault() : before.LastOrDefault(d => d.DisplayName == Design);
    }

    public IEnumerable<(string Key, string Message)> Check(Recipe recipe)
    {
        if (DesignStage(recipe) is not null) yield break;
        yield return Design is null
            ? ("kind", "a design_check stage needs a 'kind: design' stage before it (its budget and deployment shape are what is checked)")
            : ("design", $"no design stage named '{Design}' comes before this stage");
    }
}
