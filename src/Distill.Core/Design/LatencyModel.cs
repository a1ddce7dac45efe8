using Distill.Models.Design;

namespace Distill.Design;

/// <summary>
/// Predicts a candidate's latency from per-block cost features (see <see cref="DesignFamily.Features"/>):
/// <c>latency ≈ Σ_k c_k · f_k</c> with every per-unit cost <c>c_k ≥ 0</c> (a fixed overhead, a cost per block, per
/// multiply-accumulate of each kind, per element of element-wise work...). The costs are fitted by non-negative least
/// squares on relative errors (each row divided by its measured latency), so small and large models count alike and
/// the fit minimises squared percentage error; non-negativity keeps predictions sane outside the measured range.
/// Accuracy is reported by k-fold cross-validation: every measured point is predicted by a model fitted without it.
/// </summary>
public sealed class LatencyModel
{
    private LatencyModel(IReadOnlyList<string> names, double[] costs)
    {
        FeatureNames = names;
        Costs = costs;
    }

    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Fitted cost per unit of each feature, in milliseconds.</summary>
    public IReadOnlyList<double> Costs { get; }

    public double Predict(IReadOnlyList<double> features)
    {
        if (features.Count != Costs.Count)
            throw new ArgumentException($"Expected {Costs.Count} features ({string.Join(", ", FeatureNames)}), got {features.Count}.", nameof(features));
        double sum = 0;
        for (int k = 0; k < Costs.Count; k++) sum += Costs[k] * features[k];
        return sum;
    }

    /// <summary>Fits the costs to measured latencies (ms, all positive).</summary>
    public static LatencyModel Fit(IReadOnlyList<string> names, IReadOnlyList<IReadOnlyList<double>> features, IReadOnlyList<double> latencyMs)
    {
        if (features.Count != latencyMs.Count) throw new ArgumentException("One latency per feature row is needed.", nameof(latencyMs));
        if (features.Count == 0) throw new ArgumentException("The latency model needs at least one measured point.", nameof(features));
        int n = names.Count;
        foreach (var row in features)
            if (row.Count != n) throw new ArgumentException($"Every feature row needs {n} values ({string.Join(", ", names)}).", nameof(features));
        foreach (var y in latencyMs)
            if (!(y > 0) || !double.IsFinite(y)) throw new ArgumentException($"Latencies must be positive and finite, got {y}.", nameof(latencyMs));

        // Relative-error rows: (f_i / y_i) · c ≈ 1. Then unit-norm columns so that MAC counts (1e9) and the constant (1) are comparable.
        var a = features.Select((row, i) => row.Select(f => f / latencyMs[i]).ToArray()).ToArray();
        var scale = new double[n];
        for (int k = 0; k < n; k++)
        {
            double norm = Math.Sqrt(a.Sum(r => r[k] * r[k]));
            scale[k] = norm > 0 ? norm : 1;
            foreach (var r in a) r[k] /= scale[k];
        }
        var solution = Nnls.Solve(a, Enumerable.Repeat(1.0, a.Length).ToArray());
        return new LatencyModel(names, solution.Select((c, k) => c / scale[k]).ToArray());
    }

    /// <summary>
    /// k-fold cross-validation: the points are shuffled with <paramref name="seed"/>, split into <paramref name="folds"/>
    /// folds (at most one per point), and each fold is predicted by a model fitted on the others.
    /// </summary>
    public static HoldoutError CrossValidate(IReadOnlyList<string> names, IReadOnlyList<IReadOnlyList<double>> features,
        IReadOnlyList<double> latencyMs, int folds, long seed)
    {
        int m = features.Count;
        if (m < 3) return new HoldoutError([], folds);
        folds = Math.Clamp(folds, 2, m);
        var order = Enumerable.Range(0, m).ToArray();
        new Random(unchecked((int)seed)).Shuffle(order);
        var ape = new double[m];
        for (int f = 0; f < folds; f++)
        {
            var test = order.Where((_, i) => i % folds == f).ToHashSet();
            var trainIdx = Enumerable.Range(0, m).Where(i => !test.Contains(i)).ToList();
            var model = Fit(names, trainIdx.Select(i => features[i]).ToList(), trainIdx.Select(i => latencyMs[i]).ToList());
            foreach (int i in test) ape[i] = Math.Abs(model.Predict(features[i]) - latencyMs[i]) / latencyMs[i] * 100;
        }
        return new HoldoutError(ape, folds);
    }
}
