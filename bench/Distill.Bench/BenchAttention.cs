namespace Distill.Bench;

/// <summary>
/// Attention-map term (<see cref="Distill.Losses.AttentionMapLoss"/>): mean over <paramref name="Pairs"/> (student
/// layer, teacher layer; 1-based) of the KL (<paramref name="Loss"/> <c>kl</c>) or MSE (<c>mse</c>) between the
/// attention probabilities, over the query rows of real tokens (the batch's <c>attention_mask</c>).
/// </summary>
public sealed record BenchAttention(string Name, double Weight, int[][] Pairs, string Loss);
