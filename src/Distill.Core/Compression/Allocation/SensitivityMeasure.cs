namespace Distill.Compression.Allocation;

/// <summary>What the automatic allocation measures when one layer alone is pruned and quantized.</summary>
public enum SensitivityMeasure
{
    /// <summary>
    /// Output distortion: the mean KL(p || p') between the model's own class distribution before (p) and after (p') the
    /// change, over the sensitivity batches. Never negative and zero for an unchanged model, so on a few batches it
    /// ranks options by how much they change the function, not by label noise (a change can lower the labelled loss of a
    /// handful of batches by chance, and a knapsack would then buy that chance with bytes).
    /// </summary>
    Kl,

    /// <summary>The increase of the cross-entropy against the labels of the sensitivity batches (can be negative).</summary>
    Loss,
}
