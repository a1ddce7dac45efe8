using Distill.Data;
using Distill.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Losses;

/// <summary>
/// Measures the output shape of every module, hidden state and attention map of a teacher/student pair with one
/// forward pass on a single synthetic example (zeros for float inputs, ones for ids and masks), so that loss terms can
/// size their projectors and reject pairs that cannot be projected before training starts.
/// </summary>
public static class ShapeProbe
{
    public static LossBuildContext Measure(DistillModel student, DistillModel teacher, IReadOnlyList<InputSpec> inputs)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var batch = SyntheticBatch(inputs, student.parameters().FirstOrDefault()?.device ?? torch.CPU);
        var (sModules, sOut) = Run(student, batch);
        var (tModules, tOut) = Run(teacher, batch);
        return new LossBuildContext(student, teacher, sModules, tModules,
            Shapes(sOut.HiddenStates), Shapes(tOut.HiddenStates), Shapes(sOut.Attentions), Shapes(tOut.Attentions));
    }

    /// <summary>A batch of one example matching <paramref name="inputs"/>.</summary>
    public static Batch SyntheticBatch(IReadOnlyList<InputSpec> inputs, Device device)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var input in inputs)
        {
            long[] shape = [1, .. input.Shape];
            tensors[input.Name] = torch.is_integral(input.DType) || input.DType == ScalarType.Bool
                ? torch.ones(shape, input.DType, device)
                : torch.zeros(shape, input.DType, device);
        }
        return new Batch(tensors, null);
    }

    private static (Dictionary<string, long[]> Modules, ModelOutput Output) Run(DistillModel model, Batch batch)
    {
        bool wasTraining = model.training;
        bool hadAttentions = model.OutputAttentions;
        model.eval();
        model.OutputAttentions = true;
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var removers = new List<Action>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module is not nn.Module<Tensor, Tensor> m) continue;
            string key = name;
            var remover = m.register_forward_hook((_, _, output) => { shapes[key] = output.shape; return output; });
            removers.Add(remover.remove);
        }
        try
        {
            var output = model.call(batch);
            return (shapes, output);
        }
        finally
        {
            foreach (var remove in removers) remove();
            model.OutputAttentions = hadAttentions;
            model.train(wasTraining);
        }
    }

    private static List<long[]> Shapes(IReadOnlyList<Tensor> tensors) => tensors.Select(t => t.shape).ToList();
}
