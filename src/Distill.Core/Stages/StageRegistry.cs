using Distill.Recipes;

namespace Distill.Stages;

/// <summary>Named stage kinds usable in <c>stages:</c>. Unknown keys are an error listing the valid ones.</summary>
public sealed class StageRegistry
{
    private readonly Dictionary<string, StageKind> _kinds = new(StringComparer.Ordinal);

    public static StageRegistry Default { get; } = CreateDefault();

    public IReadOnlyCollection<string> Keys => _kinds.Keys;

    public void Register<TSpec>(string key, Func<TSpec, IStage> create, string description) where TSpec : StageSpec
    {
        if (_kinds.ContainsKey(key)) throw new InvalidOperationException($"Stage kind '{key}' is registered twice.");
        _kinds[key] = new StageKind(key, typeof(TSpec), s => create((TSpec)s), description);
    }

    public bool TryGet(string key, out StageKind kind) => _kinds.TryGetValue(key, out kind!);

    public StageKind Get(string key) => TryGet(key, out var k)
        ? k
        : throw new KeyNotFoundException($"Unknown stage kind '{key}'. Valid kinds: {string.Join(", ", _kinds.Keys.Order())}.");

    private static StageRegistry CreateDefault()
    {
        var r = new StageRegistry();
        r.Register<TrainTeacherStageSpec>("train_teacher", s => new TrainTeacherStage(s), "train the teacher on labels (cross-entropy)");
        r.Register<BaselineStageSpec>("baseline", s => new BaselineStage(s), "train a fresh student on labels alone, for comparison");
        r.Register<DistillStageSpec>("distill", s => new DistillStage(s), "train a fresh student with the recipe's distill terms");
        r.Register<PruneStageSpec>("prune", s => new PruneStage(s), "prune the student (magnitude or N:M with masks held, one-shot or gradual; structured: remove units) and fine-tune");
        r.Register<QuantizeStageSpec>("quantize", s => new QuantizeStage(s), "quantize the student (k-means weight sharing, QAT with straight-through gradients, or PTQ with calibration)");
        r.Register<ExportStageSpec>("export", s => new ExportStage(s), "write the student as a compressed artifact, load it back and evaluate it");
        r.Register<DesignStageSpec>("design", s => new DesignStage(s), "pick the student architecture by measured latency on this device (HAKD)");
        r.Register<DesignCheckStageSpec>("design_check", s => new DesignCheckStage(s), "time the current student against a design stage's latency budget");
        return r;
    }
}
