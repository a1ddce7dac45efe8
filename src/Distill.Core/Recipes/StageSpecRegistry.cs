namespace Distill.Recipes;

/// <summary>
/// The stage kinds usable in <c>stages:</c>: each <c>kind</c> key with its spec record (what the recipe binder builds)
/// and a one-line description. How each kind runs is registered apart, in <c>Stages/StageRegistry</c>, which refuses a
/// kind without a runner. Unknown keys are an error listing the valid ones.
/// </summary>
public sealed class StageSpecRegistry
{
    private readonly Dictionary<string, (Type SpecType, string Description)> _kinds = new(StringComparer.Ordinal);

    public static StageSpecRegistry Default { get; } = CreateDefault();

    public IReadOnlyCollection<string> Keys => _kinds.Keys;

    public void Register<TSpec>(string key, string description) where TSpec : StageSpec
    {
        if (_kinds.ContainsKey(key)) throw new InvalidOperationException($"Stage kind '{key}' is registered twice.");
        _kinds[key] = (typeof(TSpec), description);
    }

    public bool TryGet(string key, out Type specType)
    {
        bool found = _kinds.TryGetValue(key, out var k);
        specType = k.SpecType;
        return found;
    }

    public string Description(string key) => _kinds.TryGetValue(key, out var k)
        ? k.Description
        : throw new KeyNotFoundException($"Unknown stage kind '{key}'. Valid kinds: {string.Join(", ", _kinds.Keys.Order())}.");

    /// <summary>The key a spec record type is registered under.</summary>
    public string KeyOf(Type specType) => _kinds.FirstOrDefault(kv => kv.Value.SpecType == specType).Key
        ?? throw new KeyNotFoundException($"{specType.Name} is not a registered stage spec.");

    private static StageSpecRegistry CreateDefault()
    {
        var r = new StageSpecRegistry();
        r.Register<TrainTeacherStageSpec>("train_teacher", "train the teacher on labels (cross-entropy)");
        r.Register<BaselineStageSpec>("baseline", "train a fresh student on labels alone, for comparison");
        r.Register<DistillStageSpec>("distill", "train a fresh student with the recipe's distill terms");
        r.Register<PruneStageSpec>("prune", "prune the student (magnitude or N:M with masks held, one-shot or gradual; structured: remove units) and fine-tune");
        r.Register<QuantizeStageSpec>("quantize", "quantize the student (k-means weight sharing, QAT with straight-through gradients, or PTQ with calibration)");
        r.Register<WeightlessStageSpec>("weightless", "store layers as Bloomier filters (Weightless), freeze them with their false positives, fine-tune the rest");
        r.Register<ExportStageSpec>("export", "write the student as a compressed artifact, load it back and evaluate it");
        r.Register<DesignStageSpec>("design", "pick the student architecture by measured latency on this device (HAKD)");
        r.Register<DesignCheckStageSpec>("design_check", "time the current student against a design stage's latency budget");
        return r;
    }
}
