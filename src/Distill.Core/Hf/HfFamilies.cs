using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Vit;

namespace Distill.Hf;

/// <summary>The built-in <see cref="HfFamily"/> entries: BERT and ViT (registered in <see cref="HfArchitectureRegistry.CreateDefault"/>).</summary>
public static class HfFamilies
{
    /// <summary>BERT: <c>model_type: bert</c>, Distill family <c>bert</c> = <c>BertForSequenceClassification</c>.</summary>
    public static HfFamily Bert { get; } = new("bert", "bert", "bert")
    {
        LoadConfig = BertConfig.Load,
        HeadArchitecture = _ => "BertForSequenceClassification",
        NumLabels = c => ((BertConfig)c).ResolvedNumLabels,
        WithNumLabels = (c, n) =>
        {
            var b = (BertConfig)c;
            return b with { NumLabels = n, Id2Label = b.Id2Label is { } m && m.Count == n ? m : null };
        },
    };

    /// <summary>ViT: <c>model_type: vit</c>, Distill family <c>vit</c> = <c>ViTForImageClassification</c>.</summary>
    public static HfFamily ViT { get; } = new("vit", "vit", "vit")
    {
        LoadConfig = ViTConfig.Load,
        HeadArchitecture = _ => "ViTForImageClassification",
        NumLabels = c => ((ViTConfig)c).NumLabels,
        WithNumLabels = (c, n) =>
        {
            var v = (ViTConfig)c;
            bool keep = v.Id2Label is { } m && m.Count == n;
            return v with { NumLabels = n, Id2Label = keep ? v.Id2Label : null, Label2Id = keep ? v.Label2Id : null };
        },
    };
}
