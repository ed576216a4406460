package io.github.gram4j.reliability;

import io.github.gram4j.reliability.AdversarialCases.Case;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Independent reference volumes for the adversarial cases, in double with every row normalised
 * first (so no norm near the limits under- or overflows): {@code V = sqrt(det G(u)) · Π |v|} with
 * {@code u = v/|v|}, kept as {@code log₂} so volumes beyond double stay comparable.
 */
final class Truth {

    private final double[][] log2Volume;
    private final double[][] log2Scale;
    private final double log2Bound;

    private Truth(double[][] log2Volume, double[][] log2Scale, double log2Bound) {
        this.log2Volume = log2Volume;
        this.log2Scale = log2Scale;
        this.log2Bound = log2Bound;
    }

    static Truth of(Case c) {
        double[][] a = rows(c.anchor());
        double[][][] x = new double[c.k() - 1][][];
        for (int m = 0; m < x.length; m++) {
            x[m] = rows(c.candidates()[m]);
        }
        double[][] volume = new double[a.length][x[0].length];
        double[][] scale = new double[a.length][x[0].length];
        double maxAnchor = Double.NEGATIVE_INFINITY;
        double maxCandidates = Double.NEGATIVE_INFINITY;
        for (double[] row : a) {
            maxAnchor = Math.max(maxAnchor, log2Norm(row));
        }
        for (int j = 0; j < x[0].length; j++) {
            double sum = 0;
            for (double[][] xm : x) {
                sum += log2Norm(xm[j]);
            }
            maxCandidates = Math.max(maxCandidates, sum);
        }
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < x[0].length; j++) {
                double[][] tuple = new double[c.k()][];
                tuple[0] = a[i];
                for (int m = 0; m < x.length; m++) {
                    tuple[m + 1] = x[m][j];
                }
                double log2 = 0;
                double[][] unit = new double[tuple.length][];
                for (int r = 0; r < tuple.length; r++) {
                    double n = log2Norm(tuple[r]);
                    log2 += n;
                    unit[r] = unit(tuple[r]);
                }
                scale[i][j] = log2;
                double det = determinant(gram(unit));
                volume[i][j] = det <= 0 || log2 == Double.NEGATIVE_INFINITY ? Double.NEGATIVE_INFINITY
                        : 0.5 * Math.log(det) / Math.log(2) + log2;
            }
        }
        return new Truth(volume, scale, maxAnchor + maxCandidates);
    }

    /** The truth restricted to pair (0, 0). */
    Truth firstPair() {
        return new Truth(new double[][] {{log2Volume[0][0]}}, new double[][] {{log2Scale[0][0]}}, log2Scale[0][0]);
    }

    /** Whether refusing is justified: the norm bound of the volumes exceeds the result dtype. */
    boolean refusalJustified(DataType input) {
        double max = input == DataType.DOUBLE ? Double.MAX_VALUE : Float.MAX_VALUE;
        return log2Bound > Math.log(max) / Math.log(2);
    }

    /**
     * Null when {@code actual} is finite, non-negative and within {@code 4·sqrt(ulp)} of the
     * truth relative to each pair's scale (the rounding a degenerate tuple leaves), or within the
     * dtype's smallest normal value where the scale underflows; otherwise what is wrong.
     */
    String check(double[][] actual, DataType type) {
        double tolerance = 4 * Math.sqrt(type == DataType.DOUBLE ? Math.ulp(1.0) : Math.ulp(1.0f));
        double minNormal = type == DataType.DOUBLE ? Double.MIN_NORMAL : Float.MIN_NORMAL;
        for (int i = 0; i < actual.length; i++) {
            for (int j = 0; j < actual[i].length; j++) {
                double v = actual[i][j];
                if (!Double.isFinite(v) || v < 0) {
                    return "non-finite or negative V(" + i + ", " + j + ") = " + v;
                }
                double expected = Math.pow(2, log2Volume[i][j]);
                double scale = Math.pow(2, log2Scale[i][j]);
                if (Math.abs(v - expected) > tolerance * scale + minNormal) {
                    return "V(" + i + ", " + j + ") = " + v + ", expected " + expected + " (scale " + scale + ")";
                }
            }
        }
        return null;
    }

    private static double[][] rows(INDArray x) {
        return x.castTo(DataType.DOUBLE).toDoubleMatrix();
    }

    private static double log2Norm(double[] v) {
        double largest = 0;
        for (double e : v) {
            largest = Math.max(largest, Math.abs(e));
        }
        if (largest == 0) {
            return Double.NEGATIVE_INFINITY;
        }
        int exponent = Math.getExponent(largest);
        double sum = 0;
        for (double e : v) {
            double s = Math.scalb(e, -exponent);
            sum += s * s;
        }
        return exponent + 0.5 * Math.log(sum) / Math.log(2);
    }

    private static double[] unit(double[] v) {
        double log2 = log2Norm(v);
        double[] u = new double[v.length];
        if (log2 == Double.NEGATIVE_INFINITY) {
            return u;
        }
        int exponent = (int) Math.floor(log2);
        double rest = Math.pow(2, log2 - exponent);
        for (int c = 0; c < v.length; c++) {
            u[c] = Math.scalb(v[c], -exponent) / rest;
        }
        return u;
    }

    private static double[][] gram(double[][] u) {
        double[][] g = new double[u.length][u.length];
        for (int r = 0; r < u.length; r++) {
            for (int s = 0; s < u.length; s++) {
                double dot = 0;
                for (int c = 0; c < u[r].length; c++) {
                    dot += u[r][c] * u[s][c];
                }
                g[r][s] = dot;
            }
        }
        return g;
    }

    /** LU with partial pivoting; the absolute determinant. */
    private static double determinant(double[][] g) {
        int n = g.length;
        double det = 1;
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(g[r][col]) > Math.abs(g[pivot][col])) {
                    pivot = r;
                }
            }
            if (g[pivot][col] == 0) {
                return 0;
            }
            double[] t = g[col];
            g[col] = g[pivot];
            g[pivot] = t;
            det *= g[col][col];
            for (int r = col + 1; r < n; r++) {
                double f = g[r][col] / g[col][col];
                for (int c = col; c < n; c++) {
                    g[r][c] -= f * g[col][c];
                }
            }
        }
        return Math.abs(det);
    }
}
