using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>Builds the optimizer <see cref="IOptimizerSettings"/> name (the recipe's <c>train</c> section). Weight decay applies to every parameter (decoupled in AdamW).</summary>
public static class OptimizerFactory
{
    public static TorchSharp.Modules.OptimizerHelper Create(IOptimizerSettings spec, IEnumerable<TorchSharp.Modules.Parameter> parameters) => spec.Optimizer switch
    {
        OptimizerKind.Adamw => optim.AdamW(parameters, spec.Lr, weight_decay: spec.WeightDecay),
        OptimizerKind.Sgd => optim.SGD(parameters, spec.Lr, momentum: spec.Momentum, weight_decay: spec.WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Optimizer, "unknown optimizer"),
    };
}
