using Distill.Compression;
using Distill.Compression.Pruning;
using Distill.Compression.Quantization;
using Distill.Schema;

namespace Distill.Recipes;

/// <summary>
/// <c>kind: quantize</c> — quantizes the selected Linear/Conv weights of the run's current student (and embedding
/// weights the recipe names, see <see cref="PruneSelector"/>); pruned zeros stay zero. <c>method: kmeans</c> shares each weight's non-zeros among 2^<c>bits</c> centroids (per layer, linear
/// initialisation) and fine-tunes the centroids. <c>method: qat</c> fine-tunes with fake-quantized weights on a uniform
/// grid (<c>per_channel</c>, <c>symmetric</c>) and straight-through gradients; <c>method: ptq</c> rounds the weights to
/// that grid without training. Both can also quantize the inputs of the selected layers (<c>activation_bits</c>),
/// QAT observing ranges during training, PTQ from <c>calibration_batches</c> training batches. <c>layer_bits</c> sets
/// the width of single layers by module-path pattern (first match wins).
/// </summary>
public sealed record QuantizeStageSpec : StageSpec, ISpecChecks
{
    public QuantizeStageSpec() => Kind = "quantize";

    public QuantizeMethod Method { get; init; } = QuantizeMethod.Kmeans;

    /// <summary>Bits per weight code (k-means: 2^bits shared values per layer).</summary>
    [Bounds(1, 8)] public int Bits { get; init; } = 5;

    /// <summary>Bits by module-path pattern (first match wins); other selected layers use <c>bits</c>.</summary>
    public Dictionary<string, int>? LayerBits { get; init; }

    /// <summary>Module-path patterns of the Linear/Conv modules to quantize; omitted = all. A pattern that matches no
    /// Linear/Conv module selects the embedding weights it matches (<see cref="PruneSelector"/>).</summary>
    public List<string>? Include { get; init; }

    /// <summary>Module-path patterns left in float; omitted = embeddings and the classifier.</summary>
    public List<string>? Exclude { get; init; }

    public FineTuneObjective Objective { get; init; } = FineTuneObjective.Auto;

    /// <summary>The <c>distill.terms</c>, by name, that the distillation fine-tuning uses; omitted = all. After a stage
    /// that removed attention heads the <c>attention</c> term no longer fits, so such a stage lists the others.</summary>
    public List<string>? Terms { get; init; }

    /// <summary>False: quantize once and evaluate, without training (method: ptq never trains).</summary>
    public bool FineTune { get; init; } = true;

    /// <summary>k-means: how centroids follow their summed gradients (default adam).</summary>
    public CentroidUpdate? CentroidUpdate { get; init; }

    /// <summary>qat/ptq: one scale per output channel (true) or per tensor.</summary>
    public bool PerChannel { get; init; } = true;

    /// <summary>qat/ptq: symmetric grid around 0 (true) or asymmetric min/max grid with a zero point.</summary>
    public bool Symmetric { get; init; } = true;

    /// <summary>qat/ptq: round every scale up to a power of 2^(1/16), so that per-channel scales repeat and the artifact
    /// stores them as a codebook (a few bits per channel instead of a float32; see <see cref="QuantScheme"/>).</summary>
    public bool CompactScales { get; init; }

    /// <summary>qat/ptq: also quantize the inputs of the selected layers to this many bits (asymmetric, per tensor); null = float.</summary>
    [Bounds(2, 8)] public int? ActivationBits { get; init; }

    /// <summary>Automatic allocation: choose each layer's width from <c>candidate_bits</c> (and its sparsity from
    /// <c>candidate_sparsity</c>) so that the artifact fits this many bytes with the least summed measured sensitivity
    /// (see <see cref="Compression.Allocation.BudgetAllocation"/>); replaces bits/layer_bits.</summary>
    [Bounds(1, 1e15)] public long? TargetBytes { get; init; }

    /// <summary>Automatic allocation to a compression ratio: target bytes = the student's dense fp32 bytes / this ratio
    /// (the export stage's <c>compression_ratio</c>).</summary>
    [Bounds(1, 1e6)] public double? TargetRatio { get; init; }

    /// <summary>Per-layer sparsities the allocation chooses from, each a fraction (magnitude pruning of that layer;
    /// <c>0</c> = keep its current mask) or an N:M pattern (<c>"2:4"</c>). Omitted = every layer keeps its current mask.
    /// A layer none of them applies to (N:M on rows M does not divide) keeps its mask.</summary>
    public List<SparsityChoice>? CandidateSparsity { get; init; }

    /// <summary>Target-accuracy mode (the Condensa objective): the smallest artifact whose fine-tuned accuracy, measured on
    /// the model reloaded from its artifact, is at most this many points below the accuracy of the student the stage
    /// receives; found by bisection over the byte budget (<see cref="Compression.Allocation.BudgetSearch"/>), each
    /// evaluation an allocation, a fine-tuning and a reload. Replaces target_bytes/target_ratio.</summary>
    [Bounds(0, 100)] public double? MaxAccuracyDrop { get; init; }

    /// <summary>Target-accuracy mode: at most this many evaluations (fine-tunings) in the search.</summary>
    [Bounds(1, 50)] public int MaxEvaluations { get; init; } = 5;

    /// <summary>The byte budget of the allocation for a student of <paramref name="fp32Bytes"/> dense fp32 bytes, or null.</summary>
    public long? Budget(long fp32Bytes) => TargetBytes ?? (TargetRatio is { } r ? (long)Math.Floor(fp32Bytes / r) : null);

    /// <summary>True when the stage allocates widths (and sparsities) itself.</summary>
    public bool Allocates => TargetBytes is not null || TargetRatio is not null || MaxAccuracyDrop is not null;

    /// <summary>Widths the allocation chooses from; default 1–6 and 8 for k-means, 2–6 and 8 for qat/ptq.</summary>
    public List<int>? CandidateBits { get; init; }

    /// <summary>What the allocation measures per option: <c>kl</c> (output distortion, default) or <c>loss</c> (increase
    /// of the labelled cross-entropy); see <see cref="Compression.Allocation.SensitivityMeasure"/>.</summary>
    public Compression.Allocation.SensitivityMeasure Sensitivity { get; init; } = Compression.Allocation.SensitivityMeasure.Kl;

    /// <summary>Training batches the sensitivity (the change with one layer pruned and quantized) is measured on.</summary>
    [Bounds(1, 100000)] public int SensitivityBatches { get; init; } = 4;

    /// <summary>ptq: training batches run to find the activation ranges.</summary>
    [Bounds(1, 100000)] public int CalibrationBatches { get; init; } = 16;

    public IEnumerable<(string Key, string Message)> Check(Recipe recipe)
    {
        int minBits = Method == QuantizeMethod.Kmeans ? 1 : 2;
        string what = Method == QuantizeMethod.Kmeans ? "k-means" : "linear";
        if (Bits < minBits) yield return ("bits", $"{what} quantization needs {minBits}..8 bits, got {Bits}");
        foreach (var (pattern, bits) in LayerBits ?? [])
        {
            if (string.IsNullOrWhiteSpace(pattern)) yield return ("layer_bits", "a module-path pattern must not be empty");
            if (bits < minBits || bits > 8) yield return ($"layer_bits.{pattern}", $"{what} quantization needs {minBits}..8 bits, got {bits}");
        }
        if (Method == QuantizeMethod.Kmeans)
        {
            if (!PerChannel) yield return ("per_channel", "per_channel is for method: qat or ptq (k-means learns its own shared values)");
            if (!Symmetric) yield return ("symmetric", "symmetric is for method: qat or ptq");
            if (CompactScales) yield return ("compact_scales", "compact_scales is for method: qat or ptq (k-means stores its centroids, not scales)");
            if (ActivationBits is not null) yield return ("activation_bits", "activation quantization is available with method: qat or ptq");
        }
        else if (CentroidUpdate is not null) yield return ("centroid_update", "centroid_update is for method: kmeans");
        if (TargetBytes is not null && TargetRatio is not null)
            yield return ("target_ratio", "give the budget once: target_bytes or target_ratio, not both");
        if (MaxAccuracyDrop is not null && (TargetBytes is not null || TargetRatio is not null))
            yield return ("max_accuracy_drop", "max_accuracy_drop searches the budget itself; remove target_bytes/target_ratio (or max_accuracy_drop)");
        if (MaxAccuracyDrop is not null && Method != QuantizeMethod.Kmeans)
            yield return ("max_accuracy_drop", "the target-accuracy search is implemented for method: kmeans");
        if (MaxAccuracyDrop is not null && !FineTune)
            yield return ("max_accuracy_drop", "the target-accuracy search measures fine-tuned accuracy; remove fine_tune: false");
        if (Allocates && LayerBits is not null)
            yield return ("layer_bits", "target_bytes/target_ratio/max_accuracy_drop allocates every layer's width itself; remove layer_bits (or the target)");
        if (CandidateBits is not null && !Allocates)
            yield return ("candidate_bits", "candidate_bits is used by the automatic allocation; set target_bytes, target_ratio or max_accuracy_drop, or remove candidate_bits");
        if (CandidateSparsity is not null && !Allocates)
            yield return ("candidate_sparsity", "candidate_sparsity is used by the automatic allocation; set target_bytes, target_ratio or max_accuracy_drop, or remove candidate_sparsity");
        if (CandidateSparsity is { Count: 0 }) yield return ("candidate_sparsity", "give at least one sparsity (0 keeps the current mask)");
        for (int i = 0; i < (CandidateBits?.Count ?? 0); i++)
            if (CandidateBits![i] < minBits || CandidateBits[i] > 8)
                yield return ($"candidate_bits[{i}]", $"{what} quantization needs {minBits}..8 bits, got {CandidateBits[i]}");
        if (CandidateBits is { Count: 0 }) yield return ("candidate_bits", "give at least one width");
        if (Objective == FineTuneObjective.Distill && recipe.Distill.Terms.Count == 0)
            yield return ("objective", "objective: distill needs loss terms in distill.terms; use objective: ce or add terms");
        foreach (var problem in FineTuneTerms.Check(Terms, Objective, recipe)) yield return problem;
        foreach (var problem in CheckAttentionAfterHeadPruning(recipe)) yield return problem;
        foreach (var (key, pattern) in Patterns())
            if (string.IsNullOrWhiteSpace(pattern)) yield return (key, "a module-path pattern must not be empty");
    }

    public IEnumerable<(string Key, string Message)> CheckModules(IReadOnlySet<string> studentModules, IReadOnlySet<string> teacherModules) =>
        StudentModulePatterns.Check(Patterns(), studentModules);

    /// <summary>An earlier structured stage that removes attention heads (the recipe's first, whose result the config
    /// predicts) leaves the student with fewer heads than an attention term's teacher layer: fine-tuning with that term
    /// would fail after every earlier stage has run, so it is an error here.</summary>
    private IEnumerable<(string Key, string Message)> CheckAttentionAfterHeadPruning(Recipe recipe)
    {
        if (!FineTune || Method == QuantizeMethod.Ptq || Objective == FineTuneObjective.Ce) return [];
        var before = recipe.Stages.TakeWhile(s => !ReferenceEquals(s, this)).OfType<PruneStageSpec>();
        if (before.Select(p => p.KeptHeads(recipe)).FirstOrDefault(k => k is not null) is not { } kept) return [];
        return PruneStageSpec.AttentionMismatches(recipe, kept, Terms, "after the earlier head pruning", "prune fewer heads there")
            .Select(p => (p.Key == "units" ? "terms" : p.Key, p.Message));
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
