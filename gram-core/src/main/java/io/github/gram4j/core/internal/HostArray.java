package io.github.gram4j.core.internal;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Direct element access to a c-contiguous FLOAT or DOUBLE array in host memory, for the fused
 * loops of the CPU backend. Values are read and written as doubles; a loop over one instance sees
 * at most two receiver classes, which HotSpot inlines.
 *
 * <p>Only valid where {@link #available()} (the ND4J CPU backend, whose buffers are host memory).
 */
public abstract class HostArray {

    private HostArray() {
    }

    /** True when ND4J's buffers live in host memory (the CPU backend). */
    public static boolean available() {
        return Nd4j.getEnvironment().isCPU();
    }

    /**
     * A view of {@code array}'s elements in c-order.
     *
     * @throws IllegalArgumentException if the array is not c-contiguous or not FLOAT/DOUBLE
     */
    public static HostArray of(INDArray array) {
        boolean cOrder = array.ordering() == 'c' || array.rank() <= 1 || array.isVector();
        if (!cOrder || array.elementWiseStride() != 1 || array.length() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("need a c-contiguous array, got order " + array.ordering()
                    + " with element-wise stride " + array.elementWiseStride());
        }
        int offset = (int) array.offset();
        if (array.dataType() == DataType.FLOAT) {
            return new Floats(array.data().asNioFloat(), offset);
        }
        if (array.dataType() == DataType.DOUBLE) {
            return new Doubles(array.data().asNioDouble(), offset);
        }
        throw new IllegalArgumentException("need FLOAT or DOUBLE, got " + array.dataType());
    }

    /**
     * As {@link #of}, after copying {@code array} to a c-order array first when it is not
     * c-contiguous (the copy goes to the current workspace).
     */
    public static HostArray ofAny(INDArray array) {
        return of(array.ordering() == 'c' && array.elementWiseStride() == 1 ? array : array.dup('c'));
    }

    /** Element {@code i} (c-order) as a double. */
    public abstract double get(int i);

    /** Sets element {@code i} (c-order), rounding to the array's dtype. */
    public abstract void set(int i, double value);

    /** Copies elements {@code from … from + n − 1} (c-order) into {@code dst[0 … n − 1]}. */
    public abstract void read(int from, double[] dst, int n);

    /** Copies {@code src[0 … n − 1]} into elements {@code from … from + n − 1}, rounding to the dtype. */
    public abstract void write(int from, double[] src, int n);

    /** Per-thread staging for float rows: row copies would otherwise allocate on every call. */
    private static final ThreadLocal<float[]> FLOAT_ROW = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] scratch(int n) {
        float[] row = FLOAT_ROW.get();
        if (row.length < n) {
            row = new float[n];
            FLOAT_ROW.set(row);
        }
        return row;
    }

    private static final class Floats extends HostArray {
        private final FloatBuffer buffer;
        private final int offset;

        Floats(FloatBuffer buffer, int offset) {
            this.buffer = buffer;
            this.offset = offset;
        }

        @Override
        public double get(int i) {
            return buffer.get(offset + i);
        }

        @Override
        public void set(int i, double value) {
            buffer.put(offset + i, (float) value);
        }

        @Override
        public void read(int from, double[] dst, int n) {
            float[] tmp = scratch(n);
            buffer.get(offset + from, tmp, 0, n);
            for (int c = 0; c < n; c++) {
                dst[c] = tmp[c];
            }
        }

        @Override
        public void write(int from, double[] src, int n) {
            float[] tmp = scratch(n);
            for (int c = 0; c < n; c++) {
                tmp[c] = (float) src[c];
            }
            buffer.put(offset + from, tmp, 0, n);
        }
    }

    private static final class Doubles extends HostArray {
        private final DoubleBuffer buffer;
        private final int offset;

        Doubles(DoubleBuffer buffer, int offset) {
            this.buffer = buffer;
            this.offset = offset;
        }

        @Override
        public double get(int i) {
            return buffer.get(offset + i);
        }

        @Override
        public void set(int i, double value) {
            buffer.put(offset + i, value);
        }

        @Override
        public void read(int from, double[] dst, int n) {
            buffer.get(offset + from, dst, 0, n);
        }

        @Override
        public void write(int from, double[] src, int n) {
            buffer.put(offset + from, src, 0, n);
        }
    }
}
