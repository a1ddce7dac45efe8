using System.Reflection;
using Distill.Training;
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
    public static void Check(string stage, long step, string checkpoint, IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var (name, t) in tensors)
        {
            if (t.dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16)) continue;
            long bad = t.isfinite().logical_not().sum().item<long>();
            if (bad > 0) throw new NonFiniteStateException(stage, step, name, bad, checkpoint);
        }
    }

    /// <summary>The model's state dict, the projectors' (prefixed <c>projectors.</c>) and the optimizer's moments
    /// (<c>optimizer.&lt;parameter&gt;.&lt;field&gt;</c>).</summary>
    public static IEnumerable<(string Name, Tensor Tensor)> SessionTensors(TrainingSession session)
    {
        foreach (var (k, v) in session.Model.state_dict()) yield return (k, v);
        if (session.Objective.Trainable is { } extra)
            foreach (var (k, v) in extra.state_dict()) yield return ("projectors." + k, v);

        // The optimizer holds one state per trained parameter, in the order the stage passed them (model, then projectors).
        var names = session.Model.named_parameters().Select(p => (p.name, p.parameter))
            .Concat(session.Objective.Trainable?.named_parameters().Select(p => ("projectors." + p.name, p.parameter)) ?? [])
            .Where(p => p.parameter.requires_grad).Select(p => p.Item1).ToList();
        var states = session.Optimizer.state_dict().State;
        for (int i = 0; i < states.Count; i++)
        {
            string owner = states.Count == names.Count ? names[i] : $"#{i}";
            foreach (var field in states[i].GetType().GetFields(BindingFlags.Public | BindingFlags.Instance))
                if (field.FieldType == typeof(Tensor) && field.GetValue(states[i]) is Tensor t && !t.IsInvalid)
                    yield return ($"optimizer.{owner}.{field.Name}", t);
        }
    }
}
