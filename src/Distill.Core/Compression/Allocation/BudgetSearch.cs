namespace Distill.Compression.Allocation;

/// <summary>
/// The target-accuracy mode of the allocation (the objective of Condensa, Joseph et al. 2020: the smallest model whose
/// accuracy meets a constraint; Condensa samples it by Bayesian optimisation, this is plain bisection): the smallest
/// byte budget in [<c>lo</c>, <c>hi</c>] whose evaluated accuracy (allocation, fine-tuning, accuracy of the model
/// reloaded from its artifact — whatever <c>evaluate</c> does) is at least <c>minAccuracy</c>, assuming accuracy does
/// not fall as the budget grows. It evaluates <c>hi</c> first (when that fails, nothing smaller is tried), then halves
/// the interval between the largest failing and the smallest passing budget until <c>maxEvaluations</c> evaluations
/// are spent or the interval is narrower than <c>tolerance</c> bytes. Cost: at most <c>maxEvaluations</c> evaluations.
/// </summary>
public static class BudgetSearch
{
    public sealed record Evaluation(long Budget, long Bytes, double Accuracy, bool Within);

    /// <param name="Best">Index into <see cref="Evaluations"/> of the smallest passing evaluation (by bytes), or null when none passed.</param>
    public sealed record Outcome(IReadOnlyList<Evaluation> Evaluations, int? Best);

    public static Outcome Bisect(long lo, long hi, double minAccuracy, int maxEvaluations, Func<long, (long Bytes, double Accuracy)> evaluate, long tolerance = 1)
    {
        if (lo > hi) throw new ArgumentException($"The budget range [{lo}, {hi}] is empty.");
        if (maxEvaluations < 1) throw new ArgumentOutOfRangeException(nameof(maxEvaluations), maxEvaluations, "at least one evaluation");
        var evaluations = new List<Evaluation>();
        int? best = null;
        bool Try(long budget)
        {
            var (bytes, accuracy) = evaluate(budget);
            var e = new Evaluation(budget, bytes, accuracy, accuracy >= minAccuracy);
            evaluations.Add(e);
            if (e.Within && (best is null || bytes < evaluations[best.Value].Bytes)) best = evaluations.Count - 1;
            return e.Within;
        }
        if (!Try(hi)) return new Outcome(evaluations, null);
        long fail = lo - 1, pass = hi; // invariant: pass is a passing budget; fail is below every passing one seen
        while (evaluations.Count < maxEvaluations && pass - fail > Math.Max(1, tolerance))
        {
            long mid = fail + (pass - fail) / 2;
            if (Try(mid)) pass = mid;
            else fail = mid;
        }
        return new Outcome(evaluations, best);
    }
}
