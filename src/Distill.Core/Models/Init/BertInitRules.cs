using System.Text.RegularExpressions;
using Distill.Models.Bert;

namespace Distill.Models.Init;

/// <summary>Teacher-initialisation rules of BERT (<c>bert.encoder.layer.N</c>; heads in <c>attention.self.{query,key,value}</c>
/// rows and <c>attention.output.dense</c> columns).</summary>
public sealed class BertInitRules : StudentInitRules
{
    private static readonly Regex HeadRows = new(@"attention\.self\.(query|key|value)\.(weight|bias)$", RegexOptions.CultureInvariant);
    private static readonly Regex HeadColumns = new(@"attention\.output\.dense\.weight$", RegexOptions.CultureInvariant);

    public override string Family => "bert";

    public override StudentShape ShapeOf(IModelConfig config)
    {
        var c = (BertConfig)config;
        return new StudentShape(c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, c.IntermediateSize);
    }

    protected override IModelConfig WithShape(IModelConfig teacher, StudentShape shape) => (BertConfig)teacher with
    {
        NumHiddenLayers = shape.Layers, HiddenSize = shape.HiddenSize, NumAttentionHeads = shape.Heads, IntermediateSize = shape.IntermediateSize,
        PrunedHeads = null,
    };

    public override int HeadsInLayer(IModelConfig config, int layer) => ((BertConfig)config).HeadsInLayer(layer);

    protected override IModelConfig WithTeacherPrunedHeads(IModelConfig student, IModelConfig teacher, IReadOnlyList<int> layers)
    {
        var t = (BertConfig)teacher;
        var removed = Enumerable.Range(0, layers.Count).ToDictionary(i => i, i => (IReadOnlyCollection<int>)HeadPruning.Pruned(t.PrunedHeads, layers[i]));
        return (BertConfig)student with { PrunedHeads = HeadPruning.Merge(null, layers.Count, removed) };
    }

    public override bool IsHeadDim(string key, int dim) =>
        (dim == 0 && HeadRows.IsMatch(key)) || (dim == 1 && HeadColumns.IsMatch(key));
}
