using Distill.Data;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// Measures the output shape of every module, hidden state and attention map of a model with one eval-mode forward
/// pass on a single synthetic example (zeros for float inputs, ones for ids and masks), so that loss terms can size
/// their projectors and reject pairs that cannot be projected before training starts.
/// </summary>
public static class ShapeProbe
{
    /// <summary>Both models' shapes as the context loss factories are built with.</summary>
    public static LossBuildContext Measure(DistillModel student, DistillModel teacher, IReadOnlyList<InputSpec> inputs) =>
        Context(student, teacher, Probe(student, inputs), Probe(teacher, inputs));

    public static LossBuildContext Context(DistillModel student, DistillModel teacher, ModelShapes s, ModelShapes t) =>
        new(student, teacher, s.Modules, t.Modules, s.Hidden, t.Hidden, s.Attentions, t.Attentions);

    /// <summary>One forward pass of <paramref name="model"/> on a batch of one; the model's train/eval mode is restored.</summary>
    public static ModelShapes Probe(DistillModel model, IReadOnlyList<InputSpec> inputs)
    {
        bool wasTraining = model.training, hadAttentions = model.OutputAttentions;
        using var taps = FeatureTaps.AttachAll(model);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        try
        {
            model.eval();
            model.OutputAttentions = true;
            var device = model.parameters().FirstOrDefault()?.device ?? torch.CPU;
            var output = model.call(SyntheticBatch(inputs, device));
            return new ModelShapes(
                taps.Features.ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal),
                output.HiddenStates.Select(h => h.shape).ToList(),
                output.Attentions.Select(a => a.shape).ToList());
        }
        finally
        {
            model.OutputAttentions = hadAttentions;
            model.train(wasTraining);
        }
    }

    /// <summary>A batch of one example matching <paramref name="inputs"/>: zeros for floating-point inputs, ones for integer ids and masks.</summary>
    public static Batch SyntheticBatch(IReadOnlyList<InputSpec> inputs, Device device)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var input in inputs)
        {
            long[] shape = [1, .. input.Shape];
            tensors[input.Name] = torch.is_floating_point(torch.empty(0, input.DType))
                ? torch.zeros(shape, input.DType, device)
                : torch.ones(shape, input.DType, device);
        }
        return new Batch(tensors, null);
    }
}
