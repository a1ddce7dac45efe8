using Distill.Compression;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Recipes;

namespace Distill.Stages;

/// <summary>
/// <c>kind: quantize</c> — quantizes the selected Linear/Conv weights of the run's current student.
/// <c>method: kmeans</c> shares each weight's non-zeros among 2^<c>bits</c> centroids (per layer, linear
/// initialisation) and fine-tunes the centroids; pruned zeros stay zero. <c>layer_bits</c> sets the width of single
/// layers by module-path pattern (first match wins).
/// </summary>
public sealed record QuantizeStageSpec : StageSpec, ISpecChecks
{
    public QuantizeStageSpec() => Kind = "quantize";

    public QuantizeMethod Method { get; init; } = QuantizeMethod.Kmeans;

    /// <summary>Bits per weight code (k-means: 2^bits shared values per layer).</summary>
    [Bounds(1, 8)] public int Bits { get; init; } = 5;

    /// <summary>Bits by module-path pattern (first match wins); other selected layers use <c>bits</c>.</summary>
    public Dictionary<string, int>? LayerBits { get; init; }

    /// <summary>Module-path patterns of the Linear/Conv modules to quantize; omitted = all.</summary>
    public List<string>? Include { get; init; }

    /// <summary>Module-path patterns left in float; omitted = embeddings and the classifier.</summary>
    public List<string>? Exclude { get; init; }

    public FineTuneObjective Objective { get; init; } = FineTuneObjective.Auto;

    /// <summary>False: quantize once and evaluate, without training.</summary>
    public bool FineTune { get; init; } = true;

    /// <summary>k-means: how centroids follow their summed gradients.</summary>
    public CentroidUpdate CentroidUpdate { get; init; } = CentroidUpdate.Adam;

    public IEnumerable<(string Key, string Message)> Check(Recipe recipe)
    {
        foreach (var (pattern, bits) in LayerBits ?? [])
        {
            if (string.IsNullOrWhiteSpace(pattern)) yield return ("layer_bits", "a module-path pattern must not be empty");
            if (bits is < 1 or > 8) yield return ($"layer_bits.{pattern}", $"k-means bits must be 1..8, got {bits}");
        }
        if (Objective == FineTuneObjective.Distill && recipe.Distill.Terms.Count == 0)
            yield return ("objective", "objective: distill needs loss terms in distill.terms; use objective: ce or add terms");
        foreach (var (key, pattern) in Patterns())
            if (string.IsNullOrWhiteSpace(pattern)) yield return (key, "a module-path pattern must not be empty");
    }

    public IEnumerable<(string Key, string Message)> CheckModules(IReadOnlySet<string> studentModules, IReadOnlySet<string> teacherModules)
    {
        foreach (var (key, pattern) in Patterns())
        {
            if (string.IsNullOrWhiteSpace(pattern)) continue;
            var glob = new ModuleGlob(pattern);
            if (!studentModules.Any(glob.IsMatch))
                yield return (key, $"pattern '{pattern}' matches no module of the student; module paths look like: " +
                                   string.Join(", ", TextDistance.Nearest(pattern, studentModules, 4)));
        }
    }

    /// <summary>Bits of the weight of module <paramref name="modulePath"/>.</summary>
    public int BitsFor(string modulePath)
    {
        foreach (var (pattern, bits) in LayerBits ?? [])
            if (new ModuleGlob(pattern).IsMatch(modulePath)) return bits;
        return Bits;
    }

    private IEnumerable<(string Key, string Pattern)> Patterns()
    {
        for (int i = 0; i < (Include?.Count ?? 0); i++) yield return ($"include[{i}]", Include![i]);
        for (int i = 0; i < (Exclude?.Count ?? 0); i++) yield return ($"exclude[{i}]", Exclude![i]);
        foreach (var pattern in LayerBits?.Keys ?? Enumerable.Empty<string>()) yield return ($"layer_bits.{pattern}", pattern);
    }
}
