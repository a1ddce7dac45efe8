namespace Distill.Compression.Quantization;

/// <summary>What a <c>quantize</c> stage does to the selected weights.</summary>
public enum QuantizeMethod
{
    /// <summary>Deep Compression weight sharing: per-layer k-means (linear initialisation), centroid fine-tuning.</summary>
    Kmeans,

    /// <summary>Quantization-aware training: fake-quantized weights (and optionally activations) with straight-through
    /// gradients, fine-tuned with the stage's objective (KD-QAT when the run distils).</summary>
    Qat,

    /// <summary>Post-training quantization: weights rounded to their grid without training; activation ranges from a
    /// calibration pass.</summary>
    Ptq,
}
