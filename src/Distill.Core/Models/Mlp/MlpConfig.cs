using System.Text.Json.Serialization;

namespace Distill.Models.Mlp;

/// <summary>A fully connected classifier over flattened inputs (LeNet-300-100 is <c>hidden_sizes: [300, 100]</c>).</summary>
public sealed record MlpConfig : IModelConfig
{
    /// <summary>Length of the flattened input (784 for 28×28 MNIST).</summary>
    [JsonPropertyName("input_size")] public int InputSize { get; init; } = 784;

    /// <summary>Widths of the hidden layers, in order.</summary>
    [JsonPropertyName("hidden_sizes")] public List<int> HiddenSizes { get; init; } = [300, 100];

    [JsonPropertyName("num_labels")] public int NumLabels { get; init; } = 10;

    /// <summary>Dropout after each hidden activation (0 disables).</summary>
    [JsonPropertyName("dropout")] public double Dropout { get; init; }

    public IEnumerable<(string Key, string Message)> Validate()
    {
        if (InputSize < 1) yield return ("input_size", "must be at least 1");
        if (HiddenSizes.Count == 0) yield return ("hidden_sizes", "needs at least one hidden layer");
        for (int i = 0; i < HiddenSizes.Count; i++)
            if (HiddenSizes[i] < 1) yield return ($"hidden_sizes[{i}]", "must be at least 1");
        if (NumLabels < 2) yield return ("num_labels", "must be at least 2");
        if (Dropout is < 0 or >= 1) yield return ("dropout", "must be in [0, 1)");
    }
}
