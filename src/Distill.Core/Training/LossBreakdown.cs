using static TorchSharp.torch;

namespace Distill.Training;

/// <summary>The total loss of one step (what backward runs on) and each named term's unweighted value.</summary>
public sealed record LossBreakdown(Tensor Total, IReadOnlyList<(string Name, Tensor Value)> Terms);
