package io.github.gram4j.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Array and scalar comparisons relative to the magnitude of the expected values, and finiteness checks. */
public final class ArrayAssert {

    private ArrayAssert() {
    }

    /** Fails unless {@code max |actual − expected| ≤ tolerance · max(|expected|, floor)}. */
    public static void assertArrayClose(String what, INDArray actual, INDArray expected, double tolerance) {
        assertNotNull(actual, what + " is null");
        if (!Arrays.equals(actual.shape(), expected.shape())) {
            fail(what + ": shape " + Arrays.toString(actual.shape()) + " != " + Arrays.toString(expected.shape()));
        }
        double[] a = actual.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] e = expected.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double scale = 0;
        for (double v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        scale = Math.max(scale, 1e-300);
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

    public static void assertRelative(String what, double expected, double actual, double tolerance) {
        assertEquals(expected, actual, tolerance * Math.max(Math.abs(expected), 1e-300), what);
    }

    public static void assertAllFinite(String what, INDArray x) {
        double[] a = x.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        for (int n = 0; n < a.length; n++) {
            if (!Double.isFinite(a[n])) {
                fail(what + ": non-finite value " + a[n] + " at " + n);
            }
        }
    }
}
