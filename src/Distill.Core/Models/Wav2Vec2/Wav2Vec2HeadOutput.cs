using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// Output of <see cref="Wav2Vec2ForCTC"/> (HF <c>CausalLMOutput</c>: logits (B, T, vocab)) and of
/// <see cref="Wav2Vec2ForSequenceClassification"/> (HF <c>SequenceClassifierOutput</c>: logits (B, num_labels)):
/// <c>loss</c> when labels were given, <c>logits</c>, <c>hidden_states.0..L</c>, <c>attentions.*</c> when asked.
/// The base model's <see cref="Base"/> output (last hidden state, extract_features, frame mask) is kept for losses
/// that need it.
/// </summary>
public sealed record Wav2Vec2HeadOutput(Tensor Logits, Wav2Vec2ModelOutput Base) : ModelOutput(Logits), INamedOutputs
{
    public IEnumerable<KeyValuePair<string, Tensor>> NamedTensors()
    {
        if (Loss is not null) yield return new("loss", Loss);
        yield return new("logits", Logits);
        for (int i = 0; i < HiddenStates.Count; i++) yield return new($"hidden_states.{i}", HiddenStates[i]);
        for (int i = 0; i < Attentions.Count; i++) yield return new($"attentions.{i}", Attentions[i]);
    }
}
