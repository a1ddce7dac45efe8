using System.Text.Json.Serialization;

namespace Distill.Models.Cnn;

/// <summary>A small convolutional classifier: blocks of conv3×3 → BatchNorm → ReLU → 2×2 max-pool, then an MLP head.</summary>
public sealed record CnnConfig : IModelConfig
{
    [JsonPropertyName("in_channels")] public int InChannels { get; init; } = 1;

    /// <summary>Square input side in pixels (28 for MNIST, 32 for CIFAR-10).</summary>
    [JsonPropertyName("image_size")] public int ImageSize { get; init; } = 28;

    /// <summary>Output channels of each conv block; every block halves the spatial size.</summary>
    [JsonPropertyName("channels")] public List<int> Channels { get; init; } = [32, 64];

    /// <summary>Width of the hidden fully connected layer of the head.</summary>
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 128;

    [JsonPropertyName("num_labels")] public int NumLabels { get; init; } = 10;

    [JsonPropertyName("dropout")] public double Dropout { get; init; }

    /// <summary>Spatial side after all blocks.</summary>
    public int FinalSide => ImageSize >> Channels.Count;

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (InChannels < 1) yield return ("in_channels", "must be at least 1");
        if (Channels.Count == 0) yield return ("channels", "needs at least one conv block");
        for (int i = 0; i < Channels.Count; i++)
            if (Channels[i] < 1) yield return ($"channels[{i}]", "must be at least 1");
        if (ImageSize < 1 || FinalSide < 1)
            yield return ("image_size", $"{ImageSize} px is too small for {Channels.Count} blocks that each halve it; use fewer channels entries or a larger image_size");
        if (HiddenSize < 1) yield return ("hidden_size", "must be at least 1");
        if (NumLabels < 2) yield return ("num_labels", "must be at least 2");
        if (Dropout is < 0 or >= 1) yield return ("dropout", "must be in [0, 1)");
    }
}
