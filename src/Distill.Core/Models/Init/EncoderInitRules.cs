namespace Distill.Models.Init;

/// <summary>
/// Teacher-initialisation rules of an HF encoder (bert, vit), read through <see cref="ITransformerEncoderConfig"/>:
/// sizes are num_hidden_layers, hidden_size, num_attention_heads and intermediate_size; a student with the teacher's
/// width and heads inherits its selected layers' <c>pruned_heads</c>.
/// </summary>
/// <param name="family">The <see cref="ModelRegistry"/> key.</param>
/// <param name="layout">The family's layer keys and head dimensions.</param>
public sealed class EncoderInitRules(string family, WeightLayout layout) : StudentInitRules
{
    public override string Family => family;

    public override WeightLayout Layout => layout;

    private ITransformerEncoderConfig Encoder(IModelConfig config) => config as ITransformerEncoderConfig
        ?? throw new ArgumentException($"init_from_teacher: the {family} rules need a transformer encoder config, got {config.GetType().Name}.");

    public override StudentShape ShapeOf(IModelConfig config)
    {
        var c = Encoder(config);
        return new StudentShape(c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, c.IntermediateSize);
    }

    protected override IModelConfig WithShape(IModelConfig teacher, StudentShape shape) =>
        Encoder(teacher).WithEncoder(shape.Layers, shape.HiddenSize, shape.Heads, shape.IntermediateSize, prunedHeads: null);

    public override int HeadsInLayer(IModelConfig config, int layer) => Encoder(config).HeadsInLayer(layer);

    protected override IModelConfig WithTeacherPrunedHeads(IModelConfig student, IModelConfig teacher, IReadOnlyList<int> layers)
    {
        var t = Encoder(teacher);
        if (!t.CanPruneHeads) return student;
        var s = Encoder(student);
        var removed = Enumerable.Range(0, layers.Count).ToDictionary(i => i, i => (IReadOnlyCollection<int>)HeadPruning.Pruned(t.PrunedHeads, layers[i]));
        return s.WithEncoder(s.NumHiddenLayers, s.HiddenSize, s.NumAttentionHeads, s.IntermediateSize, HeadPruning.Merge(null, layers.Count, removed));
    }
}
