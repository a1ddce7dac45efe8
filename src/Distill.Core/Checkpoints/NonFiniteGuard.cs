using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Checkpoints;

/// <summary>
/// Refuses to write a checkpoint holding NaN or infinity: parameters, buffers (BatchNorm running statistics overflow
/// before the loss does) and optimizer moments. TorchSharp's optimizer states are per-optimizer classes whose tensors are
/// public fields (<c>momentum_buffer</c>, <c>exp_avg</c>, ...), so they are found by reflection rather than listed per class.
/// </summary>
internal static class NonFiniteGuard
{
    /// <summary>The first tensor with NaN or infinity and how many such values it holds, or null when all are finite.</summary>
    public static (string Name, long Count)? FirstNonFinite(IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var (name, t) in tensors)
        {
            if (t.dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16)) continue;
            long bad = t.isfinite().logical_not().sum().item<long>();
            if (bad > 0) return (name, bad);
        }
        return null;
    }

    /// <summary>The model's state dict, the projectors' (prefixed <c>projectors.</c>) and the optimizer's moments
    /// (<c>optimizer.&lt;parameter&gt;.&lt;field&gt;</c>): what a resumable checkpoint of a training session saves.</summary>
    public static IEnumerable<(string Name, Tensor Tensor)> SessionTensors(nn.Module model, nn.Module? projectors, OptimizerHelper optimizer)
    {
        foreach (var (k, v) in model.state_dict()) yield return (k, v);
        if (projectors is not null)
            foreach (var (k, v) in projectors.state_dict()) yield return ("projectors." + k, v);

        // The optimizer holds one state per trained parameter, in the order the stage passed them (model, then projectors).
        var names = model.named_parameters().Select(p => (p.name, p.parameter))
            .Concat(projectors?.named_parameters().Select(p => ("projectors." + p.name, p.parameter)) ?? [])
            .Where(p => p.parameter.requires_grad).Select(p => p.Item1).ToList();
        var states = optimizer.state_dict().State;
        for (int i = 0; i < states.Count; i++)
        {
            string owner = states.Count == names.Count ? names[i] : $"#{i}";
            foreach (var field in states[i].GetType().GetFields(BindingFlags.Public | BindingFlags.Instance))
                if (field.FieldType == typeof(Tensor) && field.GetValue(states[i]) is Tensor t && !t.IsInvalid)
                    yield return ($"optimizer.{owner}.{field.Name}", t);
        }
    }
}
