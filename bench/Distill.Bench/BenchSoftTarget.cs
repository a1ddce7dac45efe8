namespace Distill.Bench;

/// <summary>Hinton KD term: alpha·T²·KL(teacher ‖ student) + (1 − alpha)·CE (<see cref="Distill.Losses.SoftTargetLoss"/>).</summary>
public sealed record BenchSoftTarget(string Name, double Weight, double Temperature, double Alpha);
