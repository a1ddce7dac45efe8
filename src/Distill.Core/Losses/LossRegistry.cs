using Distill.Recipes;

namespace Distill.Losses;

/// <summary>Named loss kinds usable in <c>distill.terms</c>. Unknown keys are an error listing the valid ones.</summary>
public sealed class LossRegistry
{
    private readonly Dictionary<string, LossKind> _kinds = new(StringComparer.Ordinal);

    public static LossRegistry Default { get; } = CreateDefault();

    public IReadOnlyCollection<string> Keys => _kinds.Keys;

    public void Register<TSpec>(string key, Func<TSpec, LossBuildContext, ILossTerm> create, string description)
        where TSpec : LossTermSpec
    {
        if (_kinds.ContainsKey(key)) throw new InvalidOperationException($"Loss kind '{key}' is registered twice.");
        _kinds[key] = new LossKind(key, typeof(TSpec), (s, c) => create((TSpec)s, c), description);
    }

    public bool TryGet(string key, out LossKind kind) => _kinds.TryGetValue(key, out kind!);

    public LossKind Get(string key) => TryGet(key, out var k)
        ? k
        : throw new KeyNotFoundException($"Unknown loss kind '{key}'. Valid kinds: {string.Join(", ", _kinds.Keys.Order())}.");

    public ILossTerm Create(LossTermSpec spec, LossBuildContext context) => Get(spec.Kind).Create(spec, context);

    private static LossRegistry CreateDefault()
    {
        var r = new LossRegistry();
        // Each loss registers itself here: SoftTarget, Hint, HiddenMse, Attention, Cosine.
        return r;
    }
}
