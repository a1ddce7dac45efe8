using Distill.Schema;
using Distill.Training;

namespace Distill.Recipes;

/// <summary>Optimisation settings. Exactly one of <c>epochs</c> and <c>steps</c> sets the length. The trainer reads them through <see cref="ITrainSettings"/>.</summary>
public sealed record TrainSpec : ITrainSettings
{
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adamw;

    [Bounds(0, 10, ExclusiveMinimum = true)] public double Lr { get; init; } = 1e-3;

    [Bounds(0, 10)] public double WeightDecay { get; init; } = 0.01;

    /// <summary>SGD momentum (ignored by AdamW).</summary>
    [Bounds(0, 1)] public double Momentum { get; init; } = 0.9;

    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;

    /// <summary>Steps of linear warm-up from 0 to <c>lr</c> before the decay.</summary>
    [Bounds(0, int.MaxValue)] public int WarmupSteps { get; init; }

    /// <summary>Passes over the training set; null when <c>steps</c> is given.</summary>
    [Bounds(0, 100000, ExclusiveMinimum = true)] public double? Epochs { get; init; }

    /// <summary>Optimizer steps; null when <c>epochs</c> is given.</summary>
    [Bounds(1, int.MaxValue)] public int? Steps { get; init; }

    /// <summary>Examples per optimizer step, whatever <c>grad_accum_steps</c> is.</summary>
    [Bounds(1, 65536)] public int BatchSize { get; init; } = 64;

    /// <summary>
    /// Gradient accumulation: each step's <c>batch_size</c> examples run as this many micro-batches (sizes differing by at
    /// most one; at most <c>batch_size</c>), one at a time, their gradients summed before the optimizer step. Steps, epochs,
    /// the schedule, logging and checkpoints all count optimizer steps, so only memory changes: the loss and the weights
    /// equal the whole batch's for losses that are means over examples (see the trainer for where it is not exact).
    /// </summary>
    [Bounds(1, 65536)] public int GradAccumSteps { get; init; } = 1;

    /// <summary>Evaluate every N steps (and always at the end of the stage); null = only at the end.</summary>
    [Bounds(1, int.MaxValue)] public int? EvalEvery { get; init; }

    /// <summary>Clip the global gradient norm to this value; null = no clipping.</summary>
    [Bounds(0, 1e9, ExclusiveMinimum = true)] public double? GradClip { get; init; }

    /// <summary>Stop when a step's total loss exceeds this (divergence); null = no limit. NaN/infinity always stops.</summary>
    [Bounds(0, 1e30, ExclusiveMinimum = true)] public double? MaxLoss { get; init; }

    /// <summary>
    /// Stop when a step's total loss exceeds this factor times the median of the previous <see cref="Trainer.LossSpikeWindow"/>
    /// steps' losses (checked once 3 are known; the window is saved in checkpoints); null = off.
    /// </summary>
    [Bounds(1, 1e9, ExclusiveMinimum = true)] public double? LossSpike { get; init; }

    public long Seed { get; init; } = 42;

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// <c>bf16</c>: the trained model, its projectors and (in distill stages) the teacher run in bfloat16 — about 2× faster
    /// matmuls on CPUs with AVX512-BF16 — while the optimizer updates fp32 master copies of the weights (bf16 keeps 8
    /// significant bits, too few for small updates to survive). Losses are reduced in fp32. Saved models are bf16.
    /// <c>auto</c>: bf16 where the CPU has native bf16, else fp32 (<see cref="PrecisionChoice"/>); bf16 without it is warned about.
    /// </summary>
    public Precision Precision { get; init; } = Precision.Fp32;

    /// <summary>Log loss terms and lr to TensorBoard every N steps.</summary>
    [Bounds(1, int.MaxValue)] public int LogEvery { get; init; } = 20;

    /// <summary>Write weight histograms every N steps; null = never.</summary>
    [Bounds(1, int.MaxValue)] public int? HistogramEvery { get; init; } = 500;

    /// <summary>Write the resumable <c>last</c> checkpoint every N steps (and at the end of the stage).</summary>
    [Bounds(1, int.MaxValue)] public int CheckpointEvery { get; init; } = 500;
}
