using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>
/// Output of <see cref="ViTForImageClassification"/>, named as HF's <c>ImageClassifierOutput</c>:
/// <c>logits</c>, <c>loss</c> (when labels were given), <c>hidden_states.N</c>, <c>attentions.N</c>.
/// </summary>
public sealed record ViTImageClassifierOutput(Tensor Logits) : ModelOutput(Logits), INamedOutputs
{
    public IEnumerable<KeyValuePair<string, Tensor>> NamedTensors()
    {
        yield return new("logits", Logits);
        if (Loss is { } loss) yield return new("loss", loss);
        for (int i = 0; i < HiddenStates.Count; i++) yield return new($"hidden_states.{i}", HiddenStates[i]);
        for (int i = 0; i < Attentions.Count; i++) yield return new($"attentions.{i}", Attentions[i]);
    }
}
