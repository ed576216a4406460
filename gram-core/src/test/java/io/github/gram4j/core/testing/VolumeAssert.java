package io.github.gram4j.core.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Volume comparisons measured against the volume scale of each pair: the product of the norms of
 * the tuple's vectors, {@code |a_i|·Π_m |x_{m,j}|}. By Hadamard's inequality {@code 0 ≤ V ≤ scale},
 * and rounding errors of any volume formula are proportional to it, so "relative to scale" is
 * the meaningful error for tiny and for large volumes alike.
 */
public final class VolumeAssert {

    private VolumeAssert() {
    }

    /** {@code scale[i][j] = |a_i| Π_m |x_{m,j}|}, computed in double. */
    public static double[][] scales(INDArray anchor, List<INDArray> candidates) {
        double[] an = rowNorms(anchor);
        double[] cn = new double[(int) candidates.get(0).size(0)];
        java.util.Arrays.fill(cn, 1.0);
        for (INDArray x : candidates) {
            double[] n = rowNorms(x);
            for (int j = 0; j < cn.length; j++) {
                cn[j] *= n[j];
            }
        }
        double[][] s = new double[an.length][cn.length];
        for (int i = 0; i < an.length; i++) {
            for (int j = 0; j < cn.length; j++) {
                s[i][j] = an[i] * cn[j];
            }
        }
        return s;
    }

    /** The largest {@code |actual − expected| / scale} over all pairs. */
    public static double maxScaledError(INDArray actual, INDArray expected, double[][] scale) {
        double[][] a = actual.toDoubleMatrix();
        double[][] e = expected.toDoubleMatrix();
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                double error = Math.abs(a[i][j] - e[i][j]);
                // a zero vector in the tuple: scale 0, and the volume must be exactly 0
                double scaled = scale[i][j] > 0 ? error / scale[i][j] : error == 0 ? 0 : Double.POSITIVE_INFINITY;
                worst = Math.max(worst, Double.isNaN(error) ? Double.POSITIVE_INFINITY : scaled);
            }
        }
        return worst;
    }

    /** Fails unless every pair is within {@code tolerance · scale} of {@code expected}. */
    public static void assertClose(String what, INDArray actual, INDArray expected, double[][] scale,
            double tolerance) {
        if (actual.rank() != 2 || actual.size(0) != expected.size(0) || actual.size(1) != expected.size(1)) {
            fail(what + ": shape " + java.util.Arrays.toString(actual.shape()) + " != expected "
                    + java.util.Arrays.toString(expected.shape()));
        }
        assertNonNegativeFinite(what, actual);
        double worst = maxScaledError(actual, expected, scale);
        if (!(worst <= tolerance)) {
            fail(what + ": max |V - expected| / scale = " + worst + " > " + tolerance);
        }
    }

    /** Fails if any volume is NaN, infinite or negative. */
    public static void assertNonNegativeFinite(String what, INDArray v) {
        double[] flat = v.dup().data().asDouble();
        for (int n = 0; n < flat.length; n++) {
            if (!(flat[n] >= 0) || Double.isInfinite(flat[n])) {
                fail(what + ": volume " + flat[n] + " at flat index " + n + " is not a finite non-negative number");
            }
        }
    }

    private static double[] rowNorms(INDArray x) {
        double[][] m = x.toDoubleMatrix();
        double[] n = new double[m.length];
        for (int r = 0; r < m.length; r++) {
            double s = 0;
            for (double v : m[r]) {
                s += v * v;
            }
            n[r] = Math.sqrt(s);
        }
        return n;
    }
}
