using Distill.Models;
using Distill.Models.Bert;
using Distill.Models.Vit;
using Distill.Models.Wav2Vec2;

namespace Distill.Hf;

/// <summary>The built-in <see cref="HfFamily"/> entries: BERT, ViT and Wav2vec2 (registered in <see cref="HfArchitectureRegistry.CreateDefault"/>).</summary>
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

    /// <summary>
    /// Wav2vec2: <c>model_type: wav2vec2</c>, Distill family <c>wav2vec2</c> = the head named in <c>architectures</c>
    /// (sequence classification by default). A bare <c>Wav2Vec2Model</c> folder becomes a sequence classifier with a new
    /// head. For CTC the head's width is <c>vocab_size</c>: resizing it to a dataset's class count is refused.
    /// </summary>
    public static HfFamily Wav2Vec2 { get; } = new("wav2vec2", "wav2vec2", "wav2vec2")
    {
        LoadConfig = p => Wav2Vec2Config.FromJsonFile(p) is var c && c.Architecture == Wav2Vec2Config.BaseArchitecture
            ? c with { Architectures = [Wav2Vec2Config.SequenceClassificationArchitecture] }
            : c,
        HeadArchitecture = c => ((Wav2Vec2Config)c).Architecture,
        NumLabels = c => ((Wav2Vec2Config)c).Architecture == Wav2Vec2Config.CtcArchitecture
            ? ((Wav2Vec2Config)c).VocabSize
            : ((Wav2Vec2Config)c).NumLabels,
        WithNumLabels = (c, n) =>
        {
            var w = (Wav2Vec2Config)c;
            if (w.Architecture == Wav2Vec2Config.CtcArchitecture)
                throw new NotSupportedException($"A Wav2Vec2ForCTC head has vocab_size ({w.VocabSize}) outputs, not classes; it cannot be resized to {n} classes. Use a Wav2Vec2ForSequenceClassification folder for classification.");
            return w with { NumLabelsValue = n, Id2Label = w.Id2Label is { } m && m.Count == n ? m : null };
        },
    };
}
