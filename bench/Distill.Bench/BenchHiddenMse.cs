namespace Distill.Bench;

/// <summary>
/// TinyBERT hidden-state term (<see cref="Distill.Losses.HiddenStateMseLoss"/>): mean over <paramref name="Pairs"/>
/// (student layer, teacher layer; 0 = embedding output) of MSE(W·h_s, h_t), one Linear W shared by all pairs; W's
/// initial weights are under <c>projector.&lt;name&gt;.</c>. <paramref name="InFeatures"/> = <paramref name="OutFeatures"/> = 0 when the widths are equal (no W).
/// </summary>
public sealed record BenchHiddenMse(string Name, double Weight, int[][] Pairs, long InFeatures, long OutFeatures);
