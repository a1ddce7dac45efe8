using Distill.Models.Hf;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Hf;

/// <summary>
/// Runs a model loaded from a HF folder the way HF's reference outputs were produced: eval mode (dropout off), no
/// gradients, <c>output_hidden_states=True, output_attentions=True</c>, and returns every output tensor under its HF name
/// (<c>logits</c>, <c>loss</c>, <c>last_hidden_state</c>, <c>pooler_output</c>, <c>hidden_states.N</c>,
/// <c>attentions.N</c>, <c>extract_features</c>). Used by <c>distill forward</c>.
/// </summary>
public static class HfForward
{
    /// <summary>The batch inputs HF models read, by name; <c>labels</c> becomes <see cref="Batch.Labels"/>.</summary>
    public static IReadOnlyList<string> InputNames { get; } =
        ["input_ids", "attention_mask", "token_type_ids", "pixel_values", "input_values", "labels"];

    /// <summary>Runs <paramref name="loaded"/> on <paramref name="batch"/> and returns its outputs as CPU, contiguous
    /// tensors keyed by HF name. The module is put in eval mode.</summary>
    public static Dictionary<string, Tensor> Run(HfLoadedModel loaded, Batch batch)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        return Run(loaded.Model, loaded.Architecture, batch);
    }

    /// <summary>Runs <paramref name="model"/> (built for <paramref name="architecture"/>) on <paramref name="batch"/>.</summary>
    public static Dictionary<string, Tensor> Run(nn.Module model, HfArchitecture architecture, Batch batch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(architecture);
        model.eval();
        using var _ = torch.no_grad();
        INamedOutputs outputs;
        if (architecture.Forward is { } forward) outputs = forward(model, batch);
        else if (model is DistillModel distill)
        {
            distill.OutputAttentions = true;
            var output = distill.call(batch);
            outputs = output as INamedOutputs ?? throw new InvalidOperationException(
                $"{architecture.Name}: {output.GetType().Name} does not name its outputs (it must implement {nameof(INamedOutputs)}).");
        }
        else
            throw new InvalidOperationException(
                $"{architecture.Name}: the registry has no forward for {model.GetType().Name}; register it with HfArchitecture.Base or HfArchitecture.Head.");

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in outputs.NamedTensors())
        {
            if (!result.TryAdd(name, tensor.detach().cpu().contiguous()))
                throw new InvalidOperationException($"{architecture.Name}: output '{name}' is produced twice.");
        }
        return result;
    }
}
