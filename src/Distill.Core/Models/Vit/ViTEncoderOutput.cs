using static TorchSharp.torch;

namespace Distill.Models.Vit;

/// <summary>What <see cref="ViTEncoder"/> returns.</summary>
/// <param name="LastHiddenState">Output of the last layer (B, T, D), before ViTModel's final LayerNorm.</param>
/// <param name="HiddenStates">The encoder input (embeddings) then each layer's output: num_hidden_layers + 1 entries.</param>
/// <param name="Attentions">Attention probabilities per layer (B, heads, T, T); empty unless requested.</param>
public sealed record ViTEncoderOutput(Tensor LastHiddenState, IReadOnlyList<Tensor> HiddenStates, IReadOnlyList<Tensor> Attentions);
