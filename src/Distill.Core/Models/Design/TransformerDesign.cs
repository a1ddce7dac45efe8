namespace Distill.Models.Design;

/// <summary>
/// Design space shared by the encoder-only transformers (bert, vit, wav2vec2): <c>layers</c>, <c>hidden_size</c> (H),
/// <c>heads</c> (A) and <c>intermediate_size</c> (I), with H divisible by A and a head width H/A of at least
/// <c>min_head_dim</c>. Cost features per batch of B sequences of T tokens and L layers:
/// hidden elements L·B·T·H (LayerNorms, residual adds, biases), linear MACs L·B·T·H·(4H + 2I) (Q, K, V, output and the
/// two feed-forward projections), attention MACs L·B·2T²H (QKᵀ and the weighted sum of V), softmax elements L·B·A·T²,
/// input elements B·T·H and the family's input MACs (patch projection, feature projection, positional convolution,
/// pooler), plus a constant and a per-layer overhead. A config with pruned heads (HF <c>pruned_heads</c>: layer l keeps
/// A_l heads of width H/A) counts each layer's attention width A_l·H/A instead of H in the Q, K, V and output MACs,
/// the attention MACs and the softmax; search candidates never have pruned heads.
/// </summary>
public abstract class TransformerDesign<TConfig> : DesignFamily where TConfig : class, ITransformerEncoderConfig
{
    public override IReadOnlyList<string> SearchKeys { get; } = ["layers", "hidden_size", "heads", "intermediate_size"];

    public override IReadOnlyList<string> FeatureNames { get; } =
        ["overhead", "layers", "hidden_elements", "linear_macs", "attention_macs", "softmax_elements", "input_elements", "input_macs"];

    /// <summary>The sizes, read through <see cref="ITransformerEncoderConfig"/>.</summary>
    private static (int Layers, int Hidden, int Heads, int Intermediate) Shape(TConfig c) =>
        (c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, c.IntermediateSize);

    /// <summary>The config with these sizes and no pruned heads.</summary>
    private static TConfig With(TConfig config, int layers, int hidden, int heads, int intermediate) =>
        (TConfig)config.WithEncoder(layers, hidden, heads, intermediate, prunedHeads: null);

    /// <summary>Attention heads left in <paramref name="layer"/> (the head count unless the config prunes heads).</summary>
    private static int HeadsInLayer(TConfig config, int layer) => config.HeadsInLayer(layer);

    /// <summary>True when a candidate may have no encoder layer at all (vit: the patch embedding and the head alone).</summary>
    protected virtual bool AllowsNoLayers => false;

    /// <summary>Tokens per example T at the deployment shape.</summary>
    protected abstract int Tokens(TConfig config, DeploymentShape shape);

    /// <summary>MACs outside the encoder layers for a batch (input projections, pooler).</summary>
    protected abstract double InputMacs(TConfig config, DeploymentShape shape);

    /// <summary>Family constraints beyond H mod A = 0 (for example wav2vec2's grouped positional convolution).</summary>
    protected virtual string? HiddenSizeProblem(TConfig baseConfig, int hidden) => null;

    protected TConfig Base(IModelConfig config) => config as TConfig
        ?? throw new ArgumentException($"The {Family} design space needs a {typeof(TConfig).Name}, got {config.GetType().Name}.");

    private static bool Legal(int hidden, int heads, int minHeadDim) => hidden % heads == 0 && hidden / heads >= minHeadDim;

    protected override IEnumerable<(string Key, string Message)> ValidateValues(SearchSpaceSpec space, IModelConfig baseConfig)
    {
        var b = Base(baseConfig);
        var (l0, h0, a0, _) = Shape(b);
        var hidden = Or(space.HiddenSize, h0);
        var heads = Or(space.Heads, a0);
        var layers = Or(space.Layers, l0);
        foreach (int a in heads)
            if (!hidden.Any(h => Legal(h, a, space.MinHeadDim)))
                yield return (space.Heads is null ? "search" : "search.heads",
                    $"{a} heads divide none of the hidden sizes [{Join(hidden)}] into heads of at least {space.MinHeadDim} (min_head_dim); " +
                    "choose head counts that divide a hidden size");
        foreach (int h in hidden)
        {
            if (!heads.Any(a => Legal(h, a, space.MinHeadDim)))
                yield return (space.HiddenSize is null ? "search" : "search.hidden_size",
                    $"hidden size {h} is not divisible by any head count [{Join(heads)}] with a head width of at least {space.MinHeadDim} (min_head_dim)");
            if (HiddenSizeProblem(b, h) is { } problem) yield return (space.HiddenSize is null ? "search" : "search.hidden_size", problem);
        }
        if (!AllowsNoLayers && layers.Contains(0)) yield return ("search.layers", "needs at least one layer");
    }

    public override IEnumerable<IModelConfig> Enumerate(SearchSpaceSpec space, IModelConfig baseConfig)
    {
        var b = Base(baseConfig);
        var (l0, h0, a0, i0) = Shape(b);
        foreach (int l in Or(space.Layers, l0))
            foreach (int h in Or(space.HiddenSize, h0))
            {
                if (HiddenSizeProblem(b, h) is not null) continue;
                foreach (int a in Or(space.Heads, a0))
                {
                    if (!Legal(h, a, space.MinHeadDim)) continue;
                    foreach (int i in Or(space.IntermediateSize, i0))
                        yield return With(b, l, h, a, i);
                }
            }
    }

    public override double[] Features(IModelConfig config, DeploymentShape shape)
    {
        var c = Base(config);
        var (l, h, a, i) = Shape(c);
        double batch = shape.BatchSize, t = Tokens(c, shape);
        // Σ over layers of the attention width A_l·(H/A) (= L·H without pruned heads) and of the head count A_l.
        double width = 0, heads = 0;
        for (int layer = 0; layer < l; layer++)
        {
            int al = HeadsInLayer(c, layer);
            width += a > 0 ? (double)al * (h / a) : h;
            heads += al;
        }
        return
        [
            1,
            l,
            l * batch * t * h,
            batch * t * h * (4.0 * width + 2.0 * i * l),
            batch * 2.0 * t * t * width,
            batch * heads * t * t,
            batch * t * h,
            InputMacs(c, shape),
        ];
    }

    public override double Macs(IModelConfig config, DeploymentShape shape)
    {
        var f = Features(config, shape);
        return f[3] + f[4] + f[7];
    }

    public override string Label(IModelConfig config)
    {
        var c = Base(config);
        var (l, h, a, i) = Shape(c);
        int pruned = Enumerable.Range(0, l).Sum(layer => a - HeadsInLayer(c, layer));
        return pruned > 0 ? $"L{l} H{h} A{a} I{i} (-{pruned} heads)" : $"L{l} H{h} A{a} I{i}";
    }

    public override IReadOnlyDictionary<string, object> Dims(IModelConfig config)
    {
        var (l, h, a, i) = Shape(Base(config));
        return new Dictionary<string, object> { ["layers"] = l, ["hidden_size"] = h, ["heads"] = a, ["intermediate_size"] = i };
    }
}
