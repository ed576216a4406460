package io.github.gram4j.core.reference;

/** Determinants of small dense matrices. */
final class Determinants {

    private Determinants() {
    }

    /**
     * The determinant of the row-major {@code n × n} matrix in {@code a} by LU decomposition with
     * partial pivoting (as LAPACK's {@code getrf}, which {@code torch.det} uses). Overwrites
     * {@code a}. Returns exactly 0 for a matrix with an all-zero pivot column.
     */
    static double luDeterminant(double[] a, int n) {
        double det = 1.0;
        for (int col = 0; col < n; col++) {
            int pivot = col;
            double best = Math.abs(a[col * n + col]);
            for (int row = col + 1; row < n; row++) {
                double v = Math.abs(a[row * n + col]);
                if (v > best) {
                    best = v;
                    pivot = row;
                }
            }
            if (best == 0.0) {
                return 0.0;
            }
            if (pivot != col) {
                for (int c = 0; c < n; c++) {
                    double t = a[col * n + c];
                    a[col * n + c] = a[pivot * n + c];
                    a[pivot * n + c] = t;
                }
                det = -det;
            }
            double diag = a[col * n + col];
            det *= diag;
            for (int row = col + 1; row < n; row++) {
                double f = a[row * n + col] / diag;
                if (f != 0.0) {
                    for (int c = col + 1; c < n; c++) {
                        a[row * n + c] -= f * a[col * n + c];
                    }
                }
            }
        }
        return det;
    }
}
