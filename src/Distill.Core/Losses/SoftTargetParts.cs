using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>The pieces of the soft-target loss: <c>Total = alpha·Kd + (1 − alpha)·Ce</c>.</summary>
/// <param name="Kd">T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)), batchmean.</param>
/// <param name="Ce">Cross-entropy of the student logits on the labels (mean); null when alpha = 1 and no labels were given.</param>
/// <param name="Total">The weighted mix, a scalar with gradient to the student logits.</param>
public sealed record SoftTargetParts(Tensor Kd, Tensor? Ce, Tensor Total);
