using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>
/// Mixed-precision optimizer: the model's parameters are low precision (bf16); the wrapped optimizer (from
/// <see cref="OptimizerFactory"/>) owns fp32 master copies. <c>step</c> copies the (already clipped) low-precision
/// gradients to the masters in fp32, steps them, and writes the masters back to the model rounded to its dtype.
/// Learning-rate groups and the saved state are the wrapped optimizer's (the masters themselves are re-created from the
/// model's weights on resume).
/// </summary>
public sealed class MasterWeightOptimizer : OptimizerHelper
{
    private readonly List<(Parameter Model, Parameter Master)> _pairs;
    private readonly OptimizerHelper _inner;

    public MasterWeightOptimizer(IOptimizerSettings spec, IEnumerable<Parameter> parameters)
    {
        using (torch.no_grad())
            _pairs = parameters.Select(p => (p, new Parameter(p.detach().to_type(ScalarType.Float32).clone(), requires_grad: true))).ToList();
        _inner = OptimizerFactory.Create(spec, _pairs.Select(p => p.Master));
    }

    /// <summary>The fp32 master weights, in the order of the parameters given.</summary>
    public IReadOnlyList<Parameter> Masters => _pairs.Select(p => p.Master).ToList();

    /// <summary>Copies the model's current weights into the masters (after a checkpoint restored the model).</summary>
    public void SyncFromModel()
    {
        using var noGrad = torch.no_grad();
        foreach (var (model, master) in _pairs) master.copy_(model);
    }

    public override IEnumerable<optim.ILearningRateController> ParamGroups => _inner.ParamGroups;

    public override void zero_grad()
    {
        foreach (var (model, _) in _pairs) model.grad?.zero_();
        _inner.zero_grad();
    }

    public override Tensor step(Func<Tensor>? closure = null)
    {
        if (closure is not null) throw new NotSupportedException("MasterWeightOptimizer does not take a closure.");
        using (var scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            foreach (var (model, master) in _pairs)
            {
                if (model.grad is not { } g) continue;
                var g32 = g.to_type(ScalarType.Float32);
                if (master.grad is { } mg) mg.copy_(g32);
                else master.grad = g32.clone().MoveToOuterDisposeScope();
            }
        }
        _inner.step();
        using (torch.no_grad())
            foreach (var (model, master) in _pairs) model.copy_(master);
        return null!;
    }

    public override StateDictionary state_dict() => _inner.state_dict();

    public override void load_state_dict(StateDictionary state_dict) => _inner.load_state_dict(state_dict);

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}
