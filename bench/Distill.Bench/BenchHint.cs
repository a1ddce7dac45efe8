namespace Distill.Bench;

/// <summary>FitNets hint term between two tapped modules, with its projector's shape (1×1 conv or Linear); weights under <c>projector.&lt;name&gt;.</c>.</summary>
public sealed record BenchHint(string Name, double Weight, string Student, string Teacher, bool Conv, long InFeatures, long OutFeatures);
