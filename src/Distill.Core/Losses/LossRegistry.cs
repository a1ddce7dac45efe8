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
        r.Register<SoftTargetSpec>("soft_target", SoftTargetLoss.Create, "Hinton KD: alpha*T^2*KL(teacher||student) + (1-alpha)*CE");
        r.Register<HintSpec>("hint", HintLoss.Create, "FitNets hint: MSE(projector(student feature), teacher feature)");
        r.Register<HiddenMseSpec>("hidden_mse", HiddenStateMseLoss.Create, "TinyBERT hidden-state MSE over mapped layers");
        r.Register<AttentionSpec>("attention", AttentionMapLoss.Create, "attention-map KL or MSE over mapped layers");
        r.Register<CtcSoftTargetSpec>("ctc_soft_target", CtcSoftTargetLoss.Create, "frame-level KD for CTC: alpha*T^2*KL(teacher||student) per real frame + (1-alpha)*CTC");
        r.Register<CosineSpec>("cosine", CosineEmbeddingLoss.Create, "DistilBERT cosine-embedding loss on hidden states");
        return r;
    }
}
