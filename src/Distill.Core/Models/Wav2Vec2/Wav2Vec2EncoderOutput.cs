using static TorchSharp.torch;

namespace Distill.Models.Wav2Vec2;

/// <summary>Output of the transformer encoder: the last hidden state, the L + 1 hidden states, and the per-layer attention probabilities when asked.</summary>
public sealed record Wav2Vec2EncoderOutput(Tensor LastHiddenState, IReadOnlyList<Tensor> HiddenStates, IReadOnlyList<Tensor> Attentions);
