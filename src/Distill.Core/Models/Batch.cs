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

    public Batch(IReadOnlyDictionary<string, Tensor> inputs, Tensor labels)
    {
        _inputs = new Dictionary<string, Tensor>(inputs);
        Labels = labels;
    }

    public IReadOnlyDictionary<string, Tensor> Inputs => _inputs;

    /// <summary>Class labels, int64, shape (B).</summary>
    public Tensor Labels { get; }

    public long Size => Labels.shape[0];

    public Tensor this[string name] => _inputs.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException(
            $"The model needs input '{name}' but the batch has only [{string.Join(", ", _inputs.Keys)}]. " +
            "Check that the recipe's data section produces the inputs this model family expects.");

    public Tensor? Optional(string name) => _inputs.TryGetValue(name, out var t) ? t : null;

    public Batch To(Device device) =>
        new(_inputs.ToDictionary(kv => kv.Key, kv => kv.Value.to(device)), Labels.to(device));
}
