using static TorchSharp.torch;

namespace Distill.Audio;

/// <summary>
/// A padded batch from <see cref="Wav2Vec2FeatureExtractor"/>: <c>input_values</c> (B, L) float32 and, when the
/// extractor returns one, <c>attention_mask</c> (B, L) int32 (1 = real sample), as HF returns them.
/// </summary>
/// <param name="InputValues">(B, L) float32.</param>
/// <param name="AttentionMask">(B, L) int32, or null when the extractor's return_attention_mask is false.</param>
/// <param name="Lengths">Real length of each clip in samples.</param>
public sealed record Wav2Vec2Features(Tensor InputValues, Tensor? AttentionMask, int[] Lengths);
