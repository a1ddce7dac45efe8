namespace Distill.Compression.Quantization;

/// <summary>How shared-weight centroids follow their summed gradients.</summary>
public enum CentroidUpdate
{
    /// <summary>Adam on the summed gradients (scale-free, so the stage's learning rate works as for the weights).</summary>
    Adam,

    /// <summary>Plain SGD, c ← c − lr · Σ g, as in Deep Compression.</summary>
    Sgd,
}
