namespace MthpSim.Bench.Calibration;

/// <summary>
/// Non-negative least squares (Lawson and Hanson's active-set method): the x ≥ 0 that minimises
/// |Ax − b|. Small and dense (a few dozen rows, a score of columns), as the cost calibration needs;
/// no NuGet package on the mirror here provides it.
/// </summary>
public static class Nnls
{
    public static double[] Solve(double[,] a, double[] b)
    {
        int m = a.GetLength(0), n = a.GetLength(1);
        if (b.Length != m) throw new ArgumentException("b must have one value per row of A");
        var x = new double[n];
        var passive = new bool[n];
        const double tol = 1e-12;
        for (int outer = 0; outer < 3 * n + 3; outer++)
        {
            // The gradient of the residual; a column with a positive one would lower it.
            var w = Gradient(a, b, x);
            int j = -1;
            for (int c = 0; c < n; c++)
                if (!passive[c] && w[c] > tol && (j < 0 || w[c] > w[j])) j = c;
            if (j < 0) break;
            passive[j] = true;
            for (int inner = 0; inner < 3 * n + 3; inner++)
            {
                var z = LeastSquares(a, b, passive);
                bool feasible = true;
                for (int c = 0; c < n; c++) if (passive[c] && z[c] <= tol) feasible = false;
                if (feasible) { x = z; break; }
                // Step towards z only as far as keeps every x ≥ 0; the columns that reach 0 leave.
                double alpha = double.MaxValue;
                for (int c = 0; c < n; c++)
                    if (passive[c] && z[c] <= tol) alpha = Math.Min(alpha, x[c] / (x[c] - z[c]));
                for (int c = 0; c < n; c++)
                {
                    x[c] += alpha * (z[c] - x[c]);
                    if (passive[c] && x[c] <= tol) { passive[c] = false; x[c] = 0; }
                }
            }
        }
        return x;
    }

    static double[] Gradient(double[,] a, double[] b, double[] x)
    {
        int m = a.GetLength(0), n = a.GetLength(1);
        var r = new double[m];
        for (int i = 0; i < m; i++)
        {
            double s = b[i];
            for (int c = 0; c < n; c++) s -= a[i, c] * x[c];
            r[i] = s;
        }
        var w = new double[n];
        for (int c = 0; c < n; c++)
            for (int i = 0; i < m; i++) w[c] += a[i, c] * r[i];
        return w;
    }

    /// <summary>Unconstrained least squares over the passive columns (normal equations, Gaussian elimination with pivoting); 0 elsewhere.</summary>
    static double[] LeastSquares(double[,] a, double[] b, bool[] passive)
    {
        int m = a.GetLength(0), n = a.GetLength(1);
        var cols = Enumerable.Range(0, n).Where(c => passive[c]).ToArray();
        int k = cols.Length;
        var g = new double[k, k + 1];
        for (int p = 0; p < k; p++)
        {
            for (int q = 0; q < k; q++)
            {
                double s = 0;
                for (int i = 0; i < m; i++) s += a[i, cols[p]] * a[i, cols[q]];
                g[p, q] = s;
            }
            double t = 0;
            for (int i = 0; i < m; i++) t += a[i, cols[p]] * b[i];
            g[p, k] = t;
        }
        for (int p = 0; p < k; p++)
        {
            int pivot = p;
            for (int r = p + 1; r < k; r++) if (Math.Abs(g[r, p]) > Math.Abs(g[pivot, p])) pivot = r;
            for (int c = 0; c <= k; c++) (g[p, c], g[pivot, c]) = (g[pivot, c], g[p, c]);
            double d = g[p, p];
            if (Math.Abs(d) < 1e-300) continue;   // a column no row distinguishes: stays 0
            for (int r = 0; r < k; r++)
            {
                if (r == p) continue;
                double f = g[r, p] / d;
                for (int c = p; c <= k; c++) g[r, c] -= f * g[p, c];
            }
        }
        var x = new double[n];
        for (int p = 0; p < k; p++) x[cols[p]] = Math.Abs(g[p, p]) < 1e-300 ? 0 : g[p, k] / g[p, p];
        return x;
    }
}
