namespace Distill.Compression.Quantization;

/// <summary>What a <c>quantize</c> stage does to the selected weights.</summary>
public enum QuantizeMethod
{
    /// <summary>Deep Compression weight sharing: per-layer k-means (linear initialisation), centroid fine-tuning.</summary>
    Kmeans,
}
