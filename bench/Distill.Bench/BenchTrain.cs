namespace Distill.Bench;

/// <summary>Optimisation settings shared by both sides (AdamW, <see cref="Distill.Training.LrSchedule"/>; no clipping when <paramref name="GradClip"/> is null).</summary>
public sealed record BenchTrain(double Lr, double WeightDecay, int WarmupSteps, string Schedule, double? GradClip);
