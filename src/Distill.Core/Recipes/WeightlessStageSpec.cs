using Distill.Compression;
using Distill.Compression.Pruning;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>
/// <c>kind: weightless</c> — one step of Weightless (Reagen et al., ICML 2018): the weights of <c>layers</c> (pruned
/// and weight-shared by earlier prune and quantize stages) are stored as Bloomier filters of <c>bits</c>-bit cells,
/// replaced by what their tables decode to (false positives included) and frozen; then the rest of the student is
/// fine-tuned (the recipe's distillation terms when there is a teacher), with masks held and shared values kept shared,
/// so that the layers after the encoded ones absorb the false positives. Layers encoded by earlier weightless stages
/// stay frozen. A recipe lists one weightless stage per layer, first to last; the export stage writes the tables.
/// </summary>
public sealed record WeightlessStageSpec : StageSpec, ISpecChecks
{
    public WeightlessStageSpec() => Kind = "weightless";

    /// <summary>Module-path patterns of the Linear/Conv modules whose weights this stage encodes.</summary>
    [RequiredKey] public List<string> Layers { get; init; } = [];

    /// <summary>Bits per Bloomier cell (t): a pruned position is a false positive with probability codes / 2^t.</summary>
    [Bounds(2, 16)] public int Bits { get; init; } = 6;

    /// <summary>Bits by module-path pattern (first match wins); other encoded layers use <c>bits</c>.</summary>
    public Dictionary<string, int>? LayerBits { get; init; }

    /// <summary>Cells per stored non-zero (the 3-hypergraph peels above ~1.222; more cells cost bytes, fewer retries).</summary>
    [Bounds(1.23, 4)] public double CellsPerKey { get; init; } = 1.25;

    /// <summary>Seed of the filter's hash functions (a failed construction retries with the next seed).</summary>
    [Bounds(0, uint.MaxValue)] public long HashSeed { get; init; }

    public FineTuneObjective Objective { get; init; } = FineTuneObjective.Auto;

    /// <summary>The <c>distill.terms</c>, by name, the fine-tuning uses; omitted = all.</summary>
    public List<string>? Terms { get; init; }

    /// <summary>False: encode and freeze only, without fine-tuning the other layers.</summary>
    public bool FineTune { get; init; } = true;

    /// <summary>Cell bits of the weight of module <paramref name="modulePath"/>.</summary>
    public int BitsFor(string modulePath)
    {
        foreach (var (pattern, bits) in LayerBits ?? [])
            if (new ModuleGlob(pattern).IsMatch(modulePath)) return bits;
        return Bits;
    }

    public IEnumerable<(string Key, string Message)> Check(Recipe recipe)
    {
        if (Layers.Count == 0) yield return ("layers", "list the module paths whose weights this stage encodes, e.g. [layers.0]");
        // bf16 would round the frozen weights away from the values their tables decode (and to(dtype) replaces the
        // parameters the masks hold), so the export's exact-decode check would fail after all the training.
        if ((Train ?? recipe.Train).Precision is not Training.Precision.Fp32)
            yield return ("train.precision", $"the weightless stage trains in fp32 only (its frozen layers must keep the exact values their tables decode), not {(Train ?? recipe.Train).Precision.ToString().ToLowerInvariant()}; give this stage train: {{precision: fp32}}");
        foreach (var (pattern, bits) in LayerBits ?? [])
            if (bits is < 2 or > 16) yield return ($"layer_bits.{pattern}", $"Bloomier cells hold 2..16 bits, got {bits}");
        if (Objective == FineTuneObjective.Distill && recipe.Distill.Terms.Count == 0)
            yield return ("objective", "objective: distill needs loss terms in distill.terms; use objective: ce or add terms");
        foreach (var problem in FineTuneTerms.Check(Terms, Objective, recipe)) yield return problem;
        foreach (var (key, pattern) in Patterns())
            if (string.IsNullOrWhiteSpace(pattern)) yield return (key, "a module-path pattern must not be empty");
    }

    public IEnumerable<(string Key, string Message)> CheckModules(IReadOnlySet<string> studentModules, IReadOnlySet<string> teacherModules) =>
        StudentModulePatterns.Check(Patterns(), studentModules);

    private IEnumerable<(string Key, string Pattern)> Patterns()
    {
        for (int i = 0; i < Layers.Count; i++) yield return ($"layers[{i}]", Layers[i]);
        foreach (var pattern in LayerBits?.Keys ?? Enumerable.Empty<string>()) yield return ($"layer_bits.{pattern}", pattern);
    }
}
