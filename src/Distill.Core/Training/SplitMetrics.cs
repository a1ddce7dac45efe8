namespace Distill.Training;

/// <summary>The metrics of one evaluated split (<c>accuracy</c>, <c>macro_f1</c>, <c>loss</c>).</summary>
public sealed record SplitMetrics(string Split, IReadOnlyDictionary<string, double> Metrics);
