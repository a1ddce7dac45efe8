namespace Distill.Design;

/// <summary>
/// Cross-validated error of a <see cref="LatencyModel"/>: the absolute percentage error |predicted − measured| / measured
/// of each measured point, predicted by a model that did not see it. Empty with fewer than three points.
/// </summary>
public sealed record HoldoutError(IReadOnlyList<double> AbsolutePercentErrors, int Folds)
{
    public int Points => AbsolutePercentErrors.Count;

    /// <summary>Median absolute percentage error (MdAPE), NaN without points.</summary>
    public double MedianPct => Stats.Median(AbsolutePercentErrors);

    public double MeanPct => Points == 0 ? double.NaN : AbsolutePercentErrors.Average();

    public double MaxPct => Points == 0 ? double.NaN : AbsolutePercentErrors.Max();
}
