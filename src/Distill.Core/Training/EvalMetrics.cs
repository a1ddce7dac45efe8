namespace Distill.Training;

/// <summary>
/// Which evaluation metric chooses the best checkpoint, and which way is better: <c>accuracy</c> (higher is better)
/// for classification, <c>wer</c> (word error rate, lower is better) for transcription (CTC) evaluations — the
/// metrics <see cref="Evaluator"/> reports for each kind of data.
/// </summary>
public static class EvalMetrics
{
    public const string Accuracy = "accuracy";
    public const string Wer = "wer";

    /// <summary>The metric that ranks evaluations of this kind and whether higher values are better.</summary>
    public static (string Name, bool HigherIsBetter) Primary(IReadOnlyDictionary<string, double> metrics) =>
        metrics.ContainsKey(Wer) ? (Wer, false) : (Accuracy, true);

    /// <summary>True when <paramref name="value"/> beats <paramref name="best"/> (NaN = nothing seen yet; a NaN value never beats a number).</summary>
    public static bool IsBetter(double value, double best, bool higherIsBetter) =>
        double.IsNaN(best) || (higherIsBetter ? value > best : value < best);
}
