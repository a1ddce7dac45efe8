using Distill.Models;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression;

/// <summary>
/// Wraps a compression stage's objective so that its <see cref="IObjective.Trainable"/> module also holds the stage's
/// compression state (pruning masks, shared-weight centroids and assignments, quantizer ranges): checkpoints save that
/// module's state dict (<c>projectors.safetensors</c>) and a resume loads it strictly, so the state is saved and
/// restored with the optimizer state without a change to the checkpoint format. Keys are
/// <c>&lt;state&gt;.&lt;...&gt;</c> (for example <c>masks.layers.0.weight</c>) and <c>objective.&lt;projector&gt;</c>.
/// State tensors are buffers, so the optimizer never sees them.
/// </summary>
public sealed class CompressionObjective : IObjective, IDisposable
{
    private readonly IObjective _inner;

    public CompressionObjective(IObjective inner, params (string Name, nn.Module State)[] states)
    {
        _inner = inner;
        Trainable = new Container(states, inner.Trainable);
    }

    public nn.Module? Trainable { get; }

    public LossBreakdown Compute(DistillModel student, Batch batch) => _inner.Compute(student, batch);

    public void Dispose() => (_inner as IDisposable)?.Dispose();

    private sealed class Container : nn.Module
    {
        public Container((string Name, nn.Module State)[] states, nn.Module? objective) : base("compression_state")
        {
            foreach (var (name, state) in states) register_module(name, state);
            if (objective is not null) register_module("objective", objective);
        }
    }
}
