using Distill.Recipes;

namespace Distill.Stages;

/// <summary>
/// How each stage kind of <see cref="StageSpecRegistry"/> runs: its spec record to its <see cref="IStage"/>. Every
/// spec kind must have a runner here (checked when the default registry is built). Unknown keys are an error listing
/// the valid ones.
/// </summary>
public sealed class StageRegistry
{
    private readonly Dictionary<string, StageKind> _kinds = new(StringComparer.Ordinal);

    public static StageRegistry Default { get; } = CreateDefault();

    public IReadOnlyCollection<string> Keys => _kinds.Keys;

    /// <summary>Registers the runner of the stage kind whose spec record is <typeparamref name="TSpec"/> (under its <see cref="StageSpecRegistry"/> key).</summary>
    public void Register<TSpec>(Func<TSpec, IStage> create, StageSpecRegistry? specs = null) where TSpec : StageSpec
    {
        string key = (specs ?? StageSpecRegistry.Default).KeyOf(typeof(TSpec));
        if (_kinds.ContainsKey(key)) throw new InvalidOperationException($"Stage kind '{key}' is registered twice.");
        _kinds[key] = new StageKind(key, typeof(TSpec), s => create((TSpec)s));
    }

    public bool TryGet(string key, out StageKind kind) => _kinds.TryGetValue(key, out kind!);

    public StageKind Get(string key) => TryGet(key, out var k)
        ? k
        : throw new KeyNotFoundException($"Unknown stage kind '{key}'. Valid kinds: {string.Join(", ", _kinds.Keys.Order())}.");

    private static StageRegistry CreateDefault()
    {
        var r = new StageRegistry();
        r.Register<TrainTeacherStageSpec>(s => new TrainTeacherStage(s));
        r.Register<BaselineStageSpec>(s => new BaselineStage(s));
        r.Register<DistillStageSpec>(s => new DistillStage(s));
        r.Register<PruneStageSpec>(s => new PruneStage(s));
        r.Register<QuantizeStageSpec>(s => new QuantizeStage(s));
        r.Register<WeightlessStageSpec>(s => new WeightlessStage(s));
        r.Register<ExportStageSpec>(s => new ExportStage(s));
        r.Register<DesignStageSpec>(s => new DesignStage(s));
        r.Register<DesignCheckStageSpec>(s => new DesignCheckStage(s));
        var missing = StageSpecRegistry.Default.Keys.Except(r.Keys).ToList();
        if (missing.Count > 0) throw new InvalidOperationException($"Stage kinds without a runner: {string.Join(", ", missing)}.");
        return r;
    }
}
