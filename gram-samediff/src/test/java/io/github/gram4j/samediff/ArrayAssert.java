package io.github.gram4j.samediff;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Comparisons relative to the largest magnitude of the expected array, and finiteness checks. */
final class ArrayAssert {

    private ArrayAssert() {
    }

    /** Fails unless the shapes match and {@code max |actual − expected| ≤ tolerance · max|expected|}. */
    static void assertClose(String what, INDArray actual, INDArray expected, double tolerance) {
        assertNotNull(actual, what + " is null");
        if (!Arrays.equals(actual.shape(), expected.shape())) {
            fail(what + ": shape " + Arrays.toString(actual.shape()) + " != " + Arrays.toString(expected.shape()));
        }
        double[] a = asDoubles(actual);
        double[] e = asDoubles(expected);
        double scale = 1e-300;
        for (double v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        double worst = 0;
        for (int n = 0; n < a.length; n++) {
            if (!Double.isFinite(a[n])) {
                fail(what + ": non-finite value " + a[n] + " at " + n);
            }
            worst = Math.max(worst, Math.abs(a[n] - e[n]) / scale);
        }
        if (!(worst <= tolerance)) {
            fail(what + ": max |actual - expected| / max|expected| = " + worst + " > " + tolerance);
        }
    }

    /** Fails unless {@code |actual − expected| ≤ tolerance · |expected|}. */
    static void assertClose(String what, double actual, double expected, double tolerance) {
        if (!(Math.abs(actual - expected) <= tolerance * Math.abs(expected))) {
            fail(what + ": " + actual + " vs expected " + expected + ", relative error "
                    + Math.abs(actual - expected) / Math.abs(expected) + " > " + tolerance);
        }
    }

    static void assertAllFinite(String what, INDArray x) {
        double[] a = asDoubles(x);
        for (int n = 0; n < a.length; n++) {
            if (!Double.isFinite(a[n])) {
                fail(what + ": non-finite value " + a[n] + " at " + n + " of shape " + Arrays.toString(x.shape()));
            }
        }
    }

    private static double[] asDoubles(INDArray x) {
        return x.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }
}
