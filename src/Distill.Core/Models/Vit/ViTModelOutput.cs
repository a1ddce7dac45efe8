using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>
/// Output of <see cref="ViTModel"/>, named as HF's <c>BaseModelOutputWithPooling</c>:
/// <c>last_hidden_state</c> (after the final LayerNorm), <c>pooler_output</c> (when the model has a pooler),
/// <c>hidden_states.N</c> (0 = embeddings, last = final layer before the final LayerNorm), <c>attentions.N</c>.
/// </summary>
public sealed record ViTModelOutput(Tensor LastHiddenState) : INamedOutputs
{
    /// <summary>tanh(dense(last_hidden_state[:, 0])) (B, D); null for a model built without a pooler.</summary>
    public Tensor? PoolerOutput { get; init; }

    /// <summary>Embeddings output, then each layer's output (B, T, D): num_hidden_layers + 1 entries.</summary>
    public IReadOnlyList<Tensor> HiddenStates { get; init; } = Array.Empty<Tensor>();

    /// <summary>Attention probabilities per layer (B, heads, T, T); empty unless <see cref="ViTModel.OutputAttentions"/>.</summary>
    public IReadOnlyList<Tensor> Attentions { get; init; } = Array.Empty<Tensor>();

    public IEnumerable<KeyValuePair<string, Tensor>> NamedTensors()
    {
        yield return new("last_hidden_state", LastHiddenState);
        if (PoolerOutput is { } pooled) yield return new("pooler_output", pooled);
        for (int i = 0; i < HiddenStates.Count; i++) yield return new($"hidden_states.{i}", HiddenStates[i]);
        for (int i = 0; i < Attentions.Count; i++) yield return new($"attentions.{i}", Attentions[i]);
    }
}
