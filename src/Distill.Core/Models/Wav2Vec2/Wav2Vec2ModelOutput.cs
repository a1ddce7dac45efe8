using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>
/// Output of <see cref="Wav2Vec2Model"/> (HF <c>Wav2Vec2BaseModelOutput</c>): <c>last_hidden_state</c> (B, T, D),
/// <c>extract_features</c> (B, T, conv_dim[-1]: conv features after the projection's LayerNorm),
/// <c>hidden_states.0..L</c> (B, T, D) and, when asked, <c>attentions.0..L−1</c> (B, heads, T, T).
/// <see cref="FeatureAttentionMask"/> (B, T) bool is the frame-level mask derived from the input mask (null when the
/// batch had none); it is not an HF output name.
/// </summary>
public sealed record Wav2Vec2ModelOutput(Tensor LastHiddenState, Tensor ExtractFeatures) : INamedOutputs
{
    public IReadOnlyList<Tensor> HiddenStates { get; init; } = Array.Empty<Tensor>();

    public IReadOnlyList<Tensor> Attentions { get; init; } = Array.Empty<Tensor>();

    public Tensor? FeatureAttentionMask { get; init; }

    public IEnumerable<KeyValuePair<string, Tensor>> NamedTensors()
    {
        yield return new("last_hidden_state", LastHiddenState);
        yield return new("extract_features", ExtractFeatures);
        for (int i = 0; i < HiddenStates.Count; i++) yield return new($"hidden_states.{i}", HiddenStates[i]);
        for (int i = 0; i < Attentions.Count; i++) yield return new($"attentions.{i}", Attentions[i]);
    }
}
