using System.Globalization;
using static TorchSharp.torch;

namespace Distill.Models.Bert;

/// <summary>What <see cref="BertModel"/> returns, with HF's names (<c>BaseModelOutputWithPoolingAndCrossAttentions</c>).</summary>
/// <param name="LastHiddenState">Output of the last encoder layer (B, T, D).</param>
/// <param name="PoolerOutput">tanh(dense(first token)) (B, D); null when the model was built without a pooler.</param>
public sealed record BertModelOutput(Tensor LastHiddenState, Tensor? PoolerOutput) : INamedOutputs
{
    /// <summary>Index 0 = embedding output (after its LayerNorm), then one (B, T, D) per layer.</summary>
    public IReadOnlyList<Tensor> HiddenStates { get; init; } = Array.Empty<Tensor>();

    /// <summary>Attention probabilities (B, heads, T, T) per layer; empty unless attentions were requested.</summary>
    public IReadOnlyList<Tensor> Attentions { get; init; } = Array.Empty<Tensor>();

    /// <summary><c>last_hidden_state</c>, <c>pooler_output</c>, <c>hidden_states.N</c>, <c>attentions.N</c>.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedTensors()
    {
        yield return new("last_hidden_state", LastHiddenState);
        if (PoolerOutput is not null) yield return new("pooler_output", PoolerOutput);
        for (int i = 0; i < HiddenStates.Count; i++) yield return new("hidden_states." + i.ToString(CultureInfo.InvariantCulture), HiddenStates[i]);
        for (int i = 0; i < Attentions.Count; i++) yield return new("attentions." + i.ToString(CultureInfo.InvariantCulture), Attentions[i]);
    }
}
