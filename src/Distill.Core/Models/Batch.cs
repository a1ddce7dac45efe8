using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Models;

/// <summary>
/// One mini-batch: named input tensors (HuggingFace names: <c>pixel_values</c>, <c>input_ids</c>,
/// <c>attention_mask</c>, <c>token_type_ids</c>, <c>input_values</c>) and the integer class labels.
/// </summary>
public sealed class Batch
{
    private readonly Dictionary<string, Tensor> _inputs;

    public Batch(IReadOnlyDictionary<string, Tensor> inputs, Tensor? labels)
    {
        if (inputs.Count == 0) throw new ArgumentException("A batch needs at least one input tensor.", nameof(inputs));
        _inputs = new Dictionary<string, Tensor>(inputs);
        Labels = labels;
    }

    public IReadOnlyDictionary<string, Tensor> Inputs => _inputs;

    /// <summary>Labels: int64 class ids (B) for classification, (B, L) padded with -100 for CTC; null when the batch has none.</summary>
    public Tensor? Labels { get; }

    /// <summary>The labels, or an error saying that this use needs them.</summary>
    public Tensor RequireLabels() => Labels ?? throw new InvalidOperationException("This batch has no labels, but training and evaluation need them.");

    public long Size => _inputs.Values.First().shape[0];

    public Tensor this[string name] => _inputs.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException(
            $"The model needs input '{name}' but the batch has only [{string.Join(", ", _inputs.Keys)}]. " +
            "Check that the recipe's data section produces the inputs this model family expects.");

    public Tensor? Optional(string name) => _inputs.TryGetValue(name, out var t) ? t : null;

    public Batch To(Device device) =>
        new(_inputs.ToDictionary(kv => kv.Key, kv => kv.Value.to(device)), Labels?.to(device));
}
