namespace Distill.Design;

/// <summary>
/// Non-negative least squares, min ‖A x − b‖² subject to x ≥ 0, by the active-set method of Lawson and Hanson
/// (<i>Solving Least Squares Problems</i>, 1974, ch. 23). Small dense problems only (a few features, tens of rows).
/// Each unconstrained sub-problem is solved through the normal equations with Cholesky, which is accurate enough here
/// because <see cref="LatencyModel"/> scales every column to unit norm first.
/// </summary>
internal static class Nnls
{
    public static double[] Solve(double[][] a, double[] b, int maxIterations = 0)
    {
        int m = a.Length, n = m == 0 ? 0 : a[0].Length;
        var x = new double[n];
        if (m == 0 || n == 0) return x;
        if (maxIterations <= 0) maxIterations = 30 * n;
        var passive = new bool[n];
        double tol = 1e-12 * Math.Max(1, Norm(b));
        for (int iter = 0; iter < maxIterations; iter++)
        {
            var w = Gradient(a, b, x);
            int j = -1;
            double best = tol;
            for (int k = 0; k < n; k++)
                if (!passive[k] && w[k] > best) { best = w[k]; j = k; }
            if (j < 0) break;
            passive[j] = true;
            for (int inner = 0; inner < maxIterations; inner++)
            {
                var s = SolvePassive(a, b, passive);
                if (s is null) { passive[j] = false; return x; }
                bool allPositive = true;
                for (int k = 0; k < n; k++) if (passive[k] && s[k] <= 0) allPositive = false;
                if (allPositive) { x = s; break; }
                double alpha = double.PositiveInfinity;
                for (int k = 0; k < n; k++)
                    if (passive[k] && s[k] <= 0) alpha = Math.Min(alpha, x[k] / (x[k] - s[k]));
                for (int k = 0; k < n; k++)
                {
                    x[k] += alpha * (s[k] - x[k]);
                    if (passive[k] && x[k] <= 1e-15) { passive[k] = false; x[k] = 0; }
                }
            }
        }
        return x;
    }

    /// <summary>Aᵀ (b − A x): the negative gradient of the objective.</summary>
    private static double[] Gradient(double[][] a, double[] b, double[] x)
    {
        int m = a.Length, n = x.Length;
        var w = new double[n];
        for (int i = 0; i < m; i++)
        {
            double r = b[i];
            for (int k = 0; k < n; k++) r -= a[i][k] * x[k];
            for (int k = 0; k < n; k++) w[k] += a[i][k] * r;
        }
        return w;
    }

    /// <summary>Unconstrained least squares on the passive columns (others fixed at 0); null when the system is singular.</summary>
    private static double[]? SolvePassive(double[][] a, double[] b, bool[] passive)
    {
        int n = passive.Length;
        var cols = Enumerable.Range(0, n).Where(k => passive[k]).ToArray();
        int p = cols.Length;
        var g = new double[p, p];
        var c = new double[p];
        foreach (var row in a.Select((r, i) => (r, i)))
            for (int u = 0; u < p; u++)
            {
                c[u] += row.r[cols[u]] * b[row.i];
                for (int v = 0; v <= u; v++) g[u, v] += row.r[cols[u]] * row.r[cols[v]];
            }
        double trace = 0;
        for (int u = 0; u < p; u++) trace += g[u, u];
        for (int u = 0; u < p; u++) g[u, u] += 1e-12 * Math.Max(trace, 1e-300); // a whisker of ridge for collinear features
        // Cholesky: g = L Lᵀ (lower triangle).
        var l = new double[p, p];
        for (int u = 0; u < p; u++)
            for (int v = 0; v <= u; v++)
            {
                double sum = g[u, v];
                for (int k = 0; k < v; k++) sum -= l[u, k] * l[v, k];
                if (u == v)
                {
                    if (sum <= 0) return null;
                    l[u, u] = Math.Sqrt(sum);
                }
                else l[u, v] = sum / l[v, v];
            }
        var y = new double[p];
        for (int u = 0; u < p; u++)
        {
            double sum = c[u];
            for (int k = 0; k < u; k++) sum -= l[u, k] * y[k];
            y[u] = sum / l[u, u];
        }
        var z = new double[p];
        for (int u = p - 1; u >= 0; u--)
        {
            double sum = y[u];
            for (int k = u + 1; k < p; k++) sum -= l[k, u] * z[k];
            z[u] = sum / l[u, u];
        }
        var s = new double[n];
        for (int u = 0; u < p; u++) s[cols[u]] = z[u];
        return s;
    }

    private static double Norm(double[] v) => Math.Sqrt(v.Sum(t => t * t));
}
