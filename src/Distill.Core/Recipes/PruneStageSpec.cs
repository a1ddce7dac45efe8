using Distill.Compression;
using Distill.Compression.Pruning;
using Distill.Models.Pruning;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>
/// <c>kind: prune</c> — prunes the run's current student and fine-tunes it with the masks enforced after every step.
/// <c>method: magnitude</c> removes the smallest weights to <c>sparsity</c> (per <c>scope: layer</c> or <c>global</c>),
/// one-shot or along <c>schedule:</c>; <c>method: nm</c> keeps N of every M weights (<c>pattern: "2:4"</c>);
/// <c>method: structured</c> removes the <c>sparsity</c> fraction of each unit group (neurons, conv channels, FFN
/// neurons, attention heads — the kinds listed in <c>units</c>), ranked by <c>score</c>, and rebuilds a smaller model
/// (see <see cref="StructuredPruning"/>).
/// <c>include</c>/<c>exclude</c> are module-path globs (<see cref="ModuleGlob"/>) over Linear/Conv modules.
/// </summary>
public sealed record PruneStageSpec : StageSpec, ISpecChecks
{
    public PruneStageSpec() => Kind = "prune";

    public PruneMethod Method { get; init; } = PruneMethod.Magnitude;

    public PruneScope Scope { get; init; } = PruneScope.Layer;

    /// <summary>Target fraction of zeros over the selected weights (magnitude pruning).</summary>
    [Bounds(0, 1)] public double? Sparsity { get; init; }

    /// <summary>N:M pattern (<c>method: nm</c>), e.g. <c>"2:4"</c>.</summary>
    public NmPattern? Pattern { get; init; }

    /// <summary>Per-layer target sparsity by module-path pattern (first match wins), for <c>scope: layer</c>.</summary>
    public Dictionary<string, double>? LayerSparsity { get; init; }

    /// <summary>Gradual pruning; omitted = one-shot at the start of fine-tuning.</summary>
    public PruneStageSchedule? Schedule { get; init; }

    /// <summary>Module-path patterns of the Linear/Conv modules to prune; omitted = all.</summary>
    public List<string>? Include { get; init; }

    /// <summary>Module-path patterns left dense; omitted = embeddings and the classifier (<see cref="PruneSelector.DefaultExclude"/>).</summary>
    public List<string>? Exclude { get; init; }

    public FineTuneObjective Objective { get; init; } = FineTuneObjective.Auto;

    /// <summary>Structured pruning: how units are ranked.</summary>
    public UnitScore Score { get; init; } = UnitScore.Magnitude;

    /// <summary>Structured pruning with <c>score: taylor</c>: training batches the importance is averaged over.</summary>
    [Bounds(1, 100000)] public int ImportanceBatches { get; init; } = 8;

    /// <summary>
    /// Structured pruning: the kinds of unit to remove, each by <c>sparsity</c> (per group: per layer for heads and
    /// neurons, the same count in every layer for FFN neurons). bert/vit: <c>ffn</c>, <c>heads</c>; cnn:
    /// <c>channels</c>, <c>neurons</c>; mlp: <c>neurons</c>. Omitted = every kind of the family except heads (bert/vit:
    /// <c>[ffn]</c>). Different fractions for heads and FFN neurons: two prune stages.
    /// </summary>
    public List<PruneUnit>? Units { get; init; }

    /// <summary>
    /// The <c>distill.terms</c>, by name, that the distillation fine-tuning (and <c>score: taylor</c>) uses; omitted =
    /// all. A stage that removes attention heads leaves the student fewer heads than the teacher, and the
    /// <c>attention</c> term compares maps head by head, so such a stage lists the other terms (<c>terms: [kd, hidden]</c>).
    /// </summary>
    public List<string>? Terms { get; init; }

    /// <summary>False: prune once and evaluate, without training (the stage's train length is then unused).</summary>
    public bool FineTune { get; init; } = true;

    public IEnumerable<(string Key, string Message)> Check(Recipe recipe)
    {
        if (Method == PruneMethod.Magnitude)
        {
            if (Sparsity is null) yield return ("sparsity", "magnitude pruning needs a target sparsity, e.g. 'sparsity: 0.9'");
            if (Pattern is not null) yield return ("pattern", "'pattern' is for method: nm; remove it or set method: nm");
        }
        else if (Method == PruneMethod.Structured)
        {
            if (Sparsity is null) yield return ("sparsity", "structured pruning needs the fraction of units to remove, e.g. 'sparsity: 0.5'");
            if (Pattern is not null) yield return ("pattern", "'pattern' is for method: nm");
            if (Schedule is not null) yield return ("schedule", "structured pruning is one-shot; remove 'schedule'");
            if (Scope != PruneScope.Layer) yield return ("scope", "structured pruning removes the same fraction of every unit group; remove 'scope: global'");
            string family = recipe.Student.Model;
            var known = StructuredPruning.UnitsOf(family);
            var units = Units ?? StructuredPruning.DefaultUnits(family);
            if (LayerSparsity is not null && StructuredPruning.UnitsFor(family)?.UniformFfn == true && units.Contains(PruneUnit.Ffn))
                yield return ("layer_sparsity", $"a {family} student has one intermediate_size for all layers, so every layer keeps the same number of FFN neurons; " +
                                                "layer_sparsity can only set per-layer head fractions, in a stage with units: [heads] (prune FFN neurons in another stage), or remove layer_sparsity");
            if (Units is not null)
            {
                if (Units.Count == 0)
                    yield return ("units", $"list at least one kind of unit{(known.Count > 0 ? $" ({string.Join(", ", known.Select(StructuredPruning.Name))})" : "")}, or remove 'units'");
                foreach (var dup in Units.GroupBy(u => u).Where(g => g.Count() > 1))
                    yield return ("units", $"'{StructuredPruning.Name(dup.Key)}' is listed twice");
                if (Units.Contains(PruneUnit.Heads) && family == "wav2vec2")
                    yield return ("units", "attention heads cannot be removed from a wav2vec2 student: HF's Wav2Vec2Config has no pruned_heads, so a model with fewer heads " +
                                           "could not be described or loaded by transformers; head pruning supports bert and vit");
                else if (known.Count > 0)
                    foreach (var u in Units.Distinct().Where(u => !known.Contains(u)))
                        yield return ("units", $"a {family} student has no '{StructuredPruning.Name(u)}' units; its units are {string.Join(", ", known.Select(StructuredPruning.Name))}");
            }
            if (known.Count == 0)
                yield return ("method", $"structured pruning supports the mlp, cnn, bert and vit families, not '{family}'");
        }
        else
        {
            if (Pattern is null) yield return ("pattern", "method: nm needs a pattern, e.g. 'pattern: \"2:4\"'");
            if (Sparsity is not null) yield return ("sparsity", "method: nm sets the sparsity by its pattern (1 - N/M); remove 'sparsity'");
            if (Schedule is not null) yield return ("schedule", "N:M pruning is one-shot; remove 'schedule' or use method: magnitude");
            if (LayerSparsity is not null) yield return ("layer_sparsity", "layer_sparsity is for method: magnitude");
            if (Scope != PruneScope.Layer) yield return ("scope", "N:M pruning works within rows of each layer; remove 'scope: global'");
        }
        if (LayerSparsity is not null)
        {
            if (Scope == PruneScope.Global)
                yield return ("layer_sparsity", "per-layer sparsities need scope: layer (a global threshold chooses each layer's sparsity itself)");
            foreach (var (pattern, s) in LayerSparsity)
                if (s is < 0 or > 1 || double.IsNaN(s)) yield return ($"layer_sparsity.{pattern}", $"a sparsity is a fraction in [0, 1], got {s}");
        }
        if (Schedule is { } schedule)
        {
            if (schedule.EndStep <= schedule.StartStep)
                yield return ("schedule.end_step", $"end_step ({schedule.EndStep}) must be after start_step ({schedule.StartStep})");
            if (Sparsity is { } final && schedule.InitialSparsity > final)
                yield return ("schedule.initial_sparsity", $"initial_sparsity ({schedule.InitialSparsity}) is above the final sparsity ({final})");
            if (!FineTune) yield return ("schedule", "gradual pruning happens during fine-tuning; remove 'schedule' or set fine_tune: true");
            var train = Train ?? recipe.Train;
            if (train.Steps is { } steps && schedule.EndStep > steps)
                yield return ("schedule.end_step", $"end_step ({schedule.EndStep}) is beyond the stage's {steps} training steps; the final sparsity would never be reached");
        }
        if (Units is not null && Method != PruneMethod.Structured)
            yield return ("units", "'units' chooses what method: structured removes; remove it or set method: structured");
        foreach (var problem in FineTuneTerms.Check(Terms, Objective, recipe)) yield return problem;
        foreach (var problem in CheckAttentionAfterHeadPruning(recipe)) yield return problem;
        if (Objective == FineTuneObjective.Distill && recipe.Distill.Terms.Count == 0)
            yield return ("objective", "objective: distill needs loss terms in distill.terms; use objective: ce or add terms");
        foreach (var (key, pattern) in Patterns())
            if (string.IsNullOrWhiteSpace(pattern)) yield return (key, "a module-path pattern must not be empty");
    }

    /// <summary>
    /// The <c>attention</c> term compares student and teacher maps head by head, so a structured stage that removes heads
    /// and then fine-tunes with it would fail when the loss is built, after every earlier stage has run. The head counts
    /// this stage leaves are predicted here from the student config (<see cref="StructuredPruning.KeptCount"/>, with
    /// include/exclude and layer_sparsity) for the first head-removing stage of the recipe; later ones start from a
    /// student this check does not know.
    /// </summary>
    private IEnumerable<(string Key, string Message)> CheckAttentionAfterHeadPruning(Recipe recipe)
    {
        if (!FineTune || Objective == FineTuneObjective.Ce) return [];
        return KeptHeads(recipe) is { } kept ? AttentionMismatches(recipe, kept, Terms, "after this stage", "remove fewer heads") : [];
    }

    /// <summary>Attention heads per student layer after this stage, predicted from the student config, when this is the
    /// recipe's first head-removing structured stage of a bert/vit student (null otherwise).</summary>
    internal int[]? KeptHeads(Recipe recipe)
    {
        if (Method != PruneMethod.Structured || Sparsity is not { } sparsity) return null;
        if (Units is null || !Units.Contains(PruneUnit.Heads)) return null;
        var firstHeadStage = recipe.Stages.OfType<PruneStageSpec>().FirstOrDefault(p => p.Method == PruneMethod.Structured && p.Units?.Contains(PruneUnit.Heads) == true);
        if (!ReferenceEquals(firstHeadStage, this)) return null;
        if (HeadsPerLayer(recipe.Student.Config) is not { } student) return null;
        if (StructuredPruning.UnitsFor(recipe.Student.Model) is not { } prunable || prunable.HeadModule(0) is null) return null;
        var include = (Include ?? PruneSelector.DefaultInclude).Select(p => new ModuleGlob(p)).ToList();
        var exclude = (Exclude ?? PruneSelector.DefaultExclude).Select(p => new ModuleGlob(p)).ToList();
        var overrides = (LayerSparsity ?? []).Select(kv => (Pattern: new ModuleGlob(kv.Key), Sparsity: kv.Value)).ToList();
        var kept = new int[student.Length];
        for (int i = 0; i < student.Length; i++)
        {
            string module = prunable.HeadModule(i)!;
            bool pruned = ModuleGlob.AnyMatch(include, module) && !ModuleGlob.AnyMatch(exclude, module);
            double s = overrides.FirstOrDefault(o => o.Pattern.IsMatch(module)) is { Pattern: not null } o ? o.Sparsity : sparsity;
            kept[i] = pruned ? StructuredPruning.KeptCount(student[i], s) : student[i];
        }
        return kept;
    }

    /// <summary>The first student/teacher layer pair per attention term (among <paramref name="terms"/>; null = all) whose
    /// head counts differ once the student keeps <paramref name="kept"/> heads per layer, as an error at <c>terms</c>
    /// (or <c>units</c> when the stage uses all terms).</summary>
    internal static IEnumerable<(string Key, string Message)> AttentionMismatches(Recipe recipe, int[] kept, List<string>? terms,
        string when, string alternative)
    {
        if (HeadsPerLayer(recipe.Student.Config) is not { } student || HeadsPerLayer(recipe.Teacher.Config) is not { } teacher) yield break;
        foreach (var term in recipe.Distill.Terms.OfType<Losses.AttentionSpec>())
        {
            if (terms is not null && !terms.Contains(term.DisplayName, StringComparer.Ordinal)) continue;
            IReadOnlyList<(int Student, int Teacher)> pairs;
            try { pairs = term.Layers.Resolve(student.Length, teacher.Length, allowEmbedding: false); }
            catch (ArgumentException) { continue; } // reported at distill.terms by the loss check
            foreach (var (s, t) in pairs)
            {
                if (s > kept.Length || t > teacher.Length || kept[s - 1] == teacher[t - 1]) continue;
                var others = recipe.Distill.Terms.Select(x => x.DisplayName).Where(n => n != term.DisplayName).ToList();
                string fix = others.Count > 0 ? $"fine-tune with the other terms (terms: [{string.Join(", ", others)}])" : "use objective: ce";
                yield return (terms is null ? "units" : "terms",
                    $"{when} student layer {s} keeps {kept[s - 1]} of its {student[s - 1]} attention heads, but the attention term '{term.DisplayName}' " +
                    $"compares it head by head with teacher layer {t}, which has {teacher[t - 1]}; {fix}, or {alternative}");
                break;
            }
        }
    }

    /// <summary>Heads per layer of an encoder config whose heads can be removed (bert, vit; null for other families or an unknown config).</summary>
    private static int[]? HeadsPerLayer(Models.IModelConfig? config) => config is Models.ITransformerEncoderConfig { CanPruneHeads: true } e
        ? Enumerable.Range(0, Math.Max(0, e.NumHiddenLayers)).Select(e.HeadsInLayer).ToArray()
        : null;

    public IEnumerable<(string Key, string Message)> CheckModules(IReadOnlySet<string> studentModules, IReadOnlySet<string> teacherModules) =>
        StudentModulePatterns.Check(Patterns(), studentModules);

    private IEnumerable<(string Key, string Pattern)> Patterns()
    {
        for (int i = 0; i < (Include?.Count ?? 0); i++) yield return ($"include[{i}]", Include![i]);
        for (int i = 0; i < (Exclude?.Count ?? 0); i++) yield return ($"exclude[{i}]", Exclude![i]);
        foreach (var pattern in LayerSparsity?.Keys ?? Enumerable.Empty<string>()) yield return ($"layer_sparsity.{pattern}", pattern);
    }
}
