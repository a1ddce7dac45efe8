using Distill.Schema;

namespace Distill.Design;

/// <summary><c>proxy:</c> of a <c>design</c> stage with <c>pick: proxy</c>: a short distillation of the top candidates, ranked by accuracy.</summary>
public sealed record ProxySpec
{
    [Bounds(1, 100)] public int TopK { get; init; } = 3;

    /// <summary>Optimizer steps of each proxy run (at the stage's batch size and learning rate).</summary>
    [Bounds(1, 1_000_000)] public int Steps { get; init; } = 100;

    /// <summary>Training examples held out from the proxy runs and used to score them (at most a fifth of the training split).</summary>
    [Bounds(1, int.MaxValue)] public int EvalLimit { get; init; } = 500;
}
