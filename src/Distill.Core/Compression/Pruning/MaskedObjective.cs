using Distill.Models;
using Distill.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Distill.Compression.Pruning;

/// <summary>
/// Wraps a stage's objective so that its <see cref="IObjective.Trainable"/> module also holds the masks: checkpoints
/// save that module's state dict (<c>projectors.safetensors</c>) and a resume loads it strictly, so the masks are saved
/// and restored with the optimizer state without a change to the checkpoint format. Keys are <c>masks.&lt;weight&gt;</c>
/// and <c>objective.&lt;projector&gt;</c>; masks are buffers, so the optimizer never sees them.
/// </summary>
public sealed class MaskedObjective : IObjective, IDisposable
{
    private readonly IObjective _inner;

    public MaskedObjective(IObjective inner, MaskSet masks)
    {
        _inner = inner;
        Masks = masks;
        Trainable = new State(masks, inner.Trainable);
    }

    public MaskSet Masks { get; }

    public nn.Module? Trainable { get; }

    public LossBreakdown Compute(DistillModel student, Batch batch) => _inner.Compute(student, batch);

    public void Dispose() => (_inner as IDisposable)?.Dispose();

    private sealed class State : nn.Module
    {
        public State(MaskSet masks, nn.Module? objective) : base("pruning_state")
        {
            register_module("masks", masks);
            if (objective is not null) register_module("objective", objective);
        }
    }
}
