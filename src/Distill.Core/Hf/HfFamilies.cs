using Distill.Models.Hf;
using Distill.Models;

namespace Distill.Hf;

/// <summary>Shortcuts to the built-in families' <see cref="HfFamily"/> entries, which the family descriptors own
/// (<see cref="ModelFamily.Hf"/> of <c>Models/&lt;Family&gt;/&lt;Family&gt;Family.cs</c>).</summary>
public static class HfFamilies
{
    /// <summary>BERT: <c>model_type: bert</c>, Distill family <c>bert</c> = <c>BertForSequenceClassification</c>.</summary>
    public static HfFamily Bert => Of("bert");

    /// <summary>ViT: <c>model_type: vit</c>, Distill family <c>vit</c> = <c>ViTForImageClassification</c>.</summary>
    public static HfFamily ViT => Of("vit");

    /// <summary>Wav2vec2: <c>model_type: wav2vec2</c>, Distill family <c>wav2vec2</c> = the head named in <c>architectures</c>.</summary>
    public static HfFamily Wav2Vec2 => Of("wav2vec2");

    private static HfFamily Of(string key) => ModelRegistry.Default.Get(key).Hf
        ?? throw new InvalidOperationException($"The '{key}' family has no HF folder format.");
}
