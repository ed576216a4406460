package io.github.gram4j.core.internal;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Whether two arrays share memory: the same underlying buffer and overlapping address ranges
 * (views of one array included), not equality of values.
 */
public final class Aliasing {

    private Aliasing() {
    }

    /**
     * True when the memory spans of {@code a} and {@code b} overlap: every element either can
     * touch lies between its lowest and highest element address. Conservative for interleaved
     * strided views of one buffer (they count as overlapping).
     */
    public static boolean sharesMemory(INDArray a, INDArray b) {
        if (a == null || b == null) {
            return false;
        }
        if (a == b) {
            return true;
        }
        long[] x = span(a);
        long[] y = span(b);
        return x[0] < y[1] && y[0] < x[1];
    }

    /** {@code [lowest, highest + 1)} byte addresses of {@code x}'s elements. */
    private static long[] span(INDArray x) {
        long width = x.dataType().width();
        long first = x.data().address() + x.offset() * width;
        long low = 0;
        long high = 0;
        for (int d = 0; d < x.rank(); d++) {
            long extent = (x.size(d) - 1) * x.stride(d);
            if (extent < 0) {
                low += extent;
            } else {
                high += extent;
            }
        }
        return new long[] {first + low * width, first + (high + 1) * width};
    }
}
