using System.Globalization;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>
/// What <see cref="BertForSequenceClassification"/> returns: HF's <c>SequenceClassifierOutput</c> (logits, loss,
/// hidden_states, attentions) plus the encoder's last hidden state and pooled output for distillation losses
/// that need them (they are not among the HF output names).
/// </summary>
public sealed record BertSequenceClassifierOutput(Tensor Logits, Tensor LastHiddenState, Tensor PoolerOutput) : ModelOutput(Logits), INamedOutputs
{
    /// <summary><c>logits</c>, <c>loss</c> (when labels were given), <c>hidden_states.N</c>, <c>attentions.N</c>.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedTensors()
    {
        yield return new("logits", Logits);
        if (Loss is not null) yield return new("loss", Loss);
        for (int i = 0; i < HiddenStates.Count; i++) yield return new("hidden_states." + i.ToString(CultureInfo.InvariantCulture), HiddenStates[i]);
        for (int i = 0; i < Attentions.Count; i++) yield return new("attentions." + i.ToString(CultureInfo.InvariantCulture), Attentions[i]);
    }
}
